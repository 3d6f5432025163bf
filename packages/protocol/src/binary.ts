/**
 * Bytes on the wire without base64 inflation (docs/protocol.md, "Binary
 * payloads"). A binary WebSocket message carries one frame:
 *
 *   [u32 big-endian n][n bytes: the frame's JSON, UTF-8][the payload bytes]
 *
 * In the JSON, the payload field (`params.data` of an `rpc` command, `chunk`
 * of a partial reply, `result.data` of a final one) is `null`, and its
 * sibling `binary` is `true`. Over text transports (SSE, or a text frame) the
 * same payload travels as base64 text with the same `binary: true`.
 *
 * Only standard globals (TextEncoder, TextDecoder, atob, btoa) are used, so
 * this runs in browsers and Node alike.
 */
import { ErrorCode } from './codes.js';
import { ProtocolError } from './errors.js';

declare const TextEncoder: new () => { encode(s: string): Uint8Array };
declare const TextDecoder: new (label: string, opts: { fatal: boolean }) => { decode(b: Uint8Array): string };
declare function atob(s: string): string;
declare function btoa(s: string): string;

/** Largest JSON header a binary frame may declare. */
export const MAX_BINARY_HEADER = 65_536;

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
const CHUNK = 0x8000;

/** Build a binary frame from a frame's JSON (payload field null) and the payload. */
export function encodeBinaryFrame(headerJson: string, payload: Uint8Array): Uint8Array {
  const header = new TextEncoder().encode(headerJson);
  const out = new Uint8Array(4 + header.length + payload.length);
  new DataView(out.buffer).setUint32(0, header.length);
  out.set(header, 4);
  out.set(payload, 4 + header.length);
  return out;
}

/** Split a binary frame into its parsed JSON header and its payload (a view, not a copy). */
export function splitBinaryFrame(frame: Uint8Array): { header: unknown; payload: Uint8Array } {
  if (frame.length < 4) throw new ProtocolError(ErrorCode.BadRequest, 'binary frame shorter than its length prefix');
  const n = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0);
  if (n > MAX_BINARY_HEADER || 4 + n > frame.length) throw new ProtocolError(ErrorCode.BadRequest, 'binary frame header length is out of range');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(frame.subarray(4, 4 + n));
  } catch {
    throw new ProtocolError(ErrorCode.BadRequest, 'binary frame header is not UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch {
    throw new ProtocolError(ErrorCode.BadRequest, 'binary frame header is not valid JSON');
  }
  return { header, payload: frame.subarray(4 + n) };
}

export function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += CHUNK) s += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(s);
}

/** Strict base64 (standard alphabet, padded); anything else is a ProtocolError. */
export function base64ToBytes(text: string, id?: number): Uint8Array {
  if (text.length % 4 !== 0 || !BASE64_RE.test(text)) throw new ProtocolError(ErrorCode.BadRequest, 'binary data must be padded base64', id);
  let raw: string;
  try {
    raw = atob(text);
  } catch {
    throw new ProtocolError(ErrorCode.BadRequest, 'binary data must be padded base64', id);
  }
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

/** Bytes in any of the shapes applications hand over, or undefined when `v` is not bytes. */
export function asBytes(v: unknown): Uint8Array | undefined {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return undefined;
}
