/**
 * One attempt's link to the server, whatever carries it. The client core
 * speaks in frames; a Connection encodes them for its transport (JSON text,
 * binary frames, batched POSTs) and decodes what comes back. After close()
 * it reports nothing more.
 */
import {
  type ClientFrame,
  type ServerFrame,
  WsCloseCode,
  asBytes,
  bytesToBase64,
  decodeBinaryServerFrame,
  decodeServerFrame,
  encodeBinaryFrame,
  encodeCommand,
} from '@tidings/protocol';

export type TransportName = 'websocket' | 'sse';

export interface ConnectionEvents {
  /** Ready to take the connect command. */
  open(): void;
  frame(frame: ServerFrame): void;
  /** Something arrived that could not be read; the link itself is fine. */
  error(err: Error): void;
  /** The link is gone (before or after open). */
  close(code: number, reason: string): void;
}

export interface Connection {
  readonly kind: TransportName;
  send(frame: ClientFrame): void;
  /** Close without reporting anything more; `deadLink`: do not wait for a closing handshake. */
  close(deadLink: boolean): void;
}

/**
 * The part of the standard WebSocket API the client uses; the browser's
 * WebSocket and the `ws` package both fit. Event parameters are `any` so that
 * either implementation's own event types are accepted.
 */
export interface WebSocketLike {
  readonly readyState: number;
  /** Set to 'arraybuffer' so binary frames arrive the same way in browsers and Node. */
  binaryType?: string;
  onopen: ((ev: any) => void) | null;
  onmessage: ((ev: any) => void) | null;
  onclose: ((ev: any) => void) | null;
  onerror: ((ev: any) => void) | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  /** `ws` only: drop the TCP connection without a closing handshake. */
  terminate?(): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

const noop = (): void => {};

/** The bytes of an rpc command, when it carries bytes. */
export function binaryPayload(frame: ClientFrame): Uint8Array | undefined {
  if (!('id' in frame) || frame.method !== 'rpc' || !frame.params.binary) return undefined;
  return asBytes(frame.params.data);
}

/** A frame as JSON-able text: bytes become base64 (SSE, or a transport without binary frames). */
export function textFrame(frame: ClientFrame): ClientFrame {
  const bytes = binaryPayload(frame);
  if (!bytes || !('id' in frame) || frame.method !== 'rpc') return frame;
  return { ...frame, params: { ...frame.params, data: bytesToBase64(bytes) } };
}

export class WebSocketConnection implements Connection {
  readonly kind = 'websocket';
  private readonly ws: WebSocketLike;

  /** Throws when the URL is unusable. */
  constructor(WebSocket: WebSocketConstructor, url: string, private readonly ev: ConnectionEvents) {
    const ws = (this.ws = new WebSocket(url));
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => ev.open();
    ws.onmessage = (e: { data: unknown }) => this.read(e.data);
    ws.onclose = (e: { code: number; reason: string }) => ev.close(e.code, e.reason);
    // The close event that follows an error says all we need; the handler must exist (ws throws otherwise).
    ws.onerror = noop;
  }

  send(frame: ClientFrame): void {
    const bytes = binaryPayload(frame);
    if (!bytes || !('id' in frame) || frame.method !== 'rpc') return this.ws.send(encodeCommand(frame));
    // Bytes travel raw after the JSON header, whose data is null (docs/protocol.md, "Binary payloads").
    this.ws.send(encodeBinaryFrame(encodeCommand({ ...frame, params: { ...frame.params, data: null } }), bytes));
  }

  close(deadLink: boolean): void {
    const ws = this.ws;
    ws.onopen = ws.onmessage = ws.onclose = null;
    try {
      // Waiting for the close frame of a dead link would hold a Node process for ws's 30 s close timeout.
      if (deadLink && typeof ws.terminate === 'function') ws.terminate();
      else ws.close(WsCloseCode.Normal, 'client closed');
    } catch {
      // Already closed, or the implementation refuses; nothing to do.
    }
  }

  private read(data: unknown): void {
    let frame: ServerFrame;
    try {
      if (typeof data === 'string') frame = decodeServerFrame(data);
      else {
        const bytes = asBytes(data);
        if (!bytes) throw new Error('ignored a frame of unknown type');
        frame = decodeBinaryServerFrame(bytes);
      }
    } catch (err) {
      return this.ev.error(err instanceof Error ? err : new Error(String(err)));
    }
    this.ev.frame(frame);
  }
}
