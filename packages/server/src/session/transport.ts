/** What a session needs from its transport (WebSocket or SSE): transports implement it. */
import type { StreamPosition } from '@tidings/protocol';
import type { ConnectFacts } from '../hooks/facts.js';
import type { SharedFrame } from '../wire/shared-frame.js';

/** A connection's way out (WebSocket or SSE); it owns the outbound queue. */
export interface Transport {
  readonly kind: 'websocket' | 'sse';
  sendJson(json: string): void;
  /** The `disconnect` push that precedes a close: written even when the queue overflowed. */
  farewell(json: string): void;
  sendShared(frame: SharedFrame): void;
  /** A binary frame: `headerJson` then `payload` (@tidings/protocol binary.ts). Absent on text-only transports. */
  sendBinary?(headerJson: string, payload: Uint8Array): void;
  /** SSE: a subscription's position moved (null: it ended), so the next event id says so. */
  position?(channel: string, pos: StreamPosition | null): void;
  /** SSE: the secret that binds `POST /sse/command` to this stream, sent in the connect reply. */
  readonly sessionKey?: string;
  /** The HTTP request's address, headers and cookies the connect hook may see; dropped once connected. */
  requestFacts?: ConnectFacts | undefined;
  /** Bytes waiting to be written (queue plus socket buffer). */
  readonly queuedBytes: number;
  /** Write what is queued, then close with `code`. */
  close(code: number, reason: string): void;
  /** Drop the connection at once, no close handshake (fault injection, dead peers). */
  abort(): void;
}
