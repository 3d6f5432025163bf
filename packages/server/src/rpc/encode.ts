/**
 * RPC replies on the wire: a partial `{id, chunk}` or the final
 * `{id, result: {data}}`. Bytes go as a binary frame where the transport has
 * them (WebSocket) and as base64 text elsewhere (SSE), flagged `binary: true`
 * either way (docs/protocol.md, "Binary payloads").
 */
import { asBytes } from '@tidings/protocol';
import type { RpcPeer } from './peer.js';

type Frame = (payloadJson: string, binaryFlag: string) => string;

/** JSON of a handler's value; throws (caught as an RPC failure) for what JSON cannot carry. */
function payloadJson(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

function send(s: RpcPeer, value: unknown, frame: Frame): void {
  const bytes = asBytes(value);
  if (!bytes) return s.sendJson(frame(payloadJson(value), ''));
  if (s.canSendBinary) return s.sendBinary(frame('null', ',"binary":true'), bytes);
  const b64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  s.sendJson(frame(`"${b64}"`, ',"binary":true'));
}

export function sendChunk(s: RpcPeer, id: number, value: unknown): void {
  send(s, value, (p, b) => `{"id":${id},"chunk":${p}${b}}`);
}

export function sendResult(s: RpcPeer, id: number, value: unknown): void {
  send(s, value, (p, b) => `{"id":${id},"result":{"data":${p}${b}}}`);
}
