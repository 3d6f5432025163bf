/** What every session shares on a node, and the transport a session writes to. */
import type { StreamPosition } from '@tidings/protocol';
import type { Logger } from 'pino';
import type { TokenVerifier } from '../auth/verifier.js';
import type { ChannelPolicy } from '../channels/policy.js';
import type { Config } from '../config/schema.js';
import type { Engine } from '../engine/engine.js';
import type { Hub } from '../hub/hub.js';
import type { SharedFrame } from '../transport/frame.js';
import type { Deadlines } from './deadlines.js';
import type { RpcRegistry } from './rpc.js';
import type { Session } from './session.js';

export interface NodeContext {
  readonly config: Config;
  readonly hub: Hub;
  readonly engine: Engine;
  readonly verifier: TokenVerifier;
  readonly policy: ChannelPolicy;
  readonly rpc: RpcRegistry;
  readonly log: Logger;
  /** False once the node drains: new connects are refused with 3001. */
  accepting: boolean;
  /** Every session's connect, ping and token deadlines, on one timer. */
  readonly deadlines: Deadlines<Session>;
  /** Server-initiated disconnects by close code. */
  readonly disconnects: Map<number, number>;
}

/** A connection's way out (WebSocket or SSE); it owns the outbound queue. */
export interface Transport {
  readonly kind: 'websocket' | 'sse';
  sendJson(json: string): void;
  sendShared(frame: SharedFrame): void;
  /** A binary frame: `headerJson` then `payload` (@tidings/protocol binary.ts). Absent on text-only transports. */
  sendBinary?(headerJson: string, payload: Uint8Array): void;
  /** SSE: a subscription's position moved (null: it ended), so the next event id says so. */
  position?(channel: string, pos: StreamPosition | null): void;
  /** SSE: the secret that binds `POST /sse/command` to this stream, sent in the connect reply. */
  readonly sessionKey?: string;
  /** Bytes waiting to be written (queue plus socket buffer). */
  readonly queuedBytes: number;
  /** Write what is queued, then close with `code`. */
  close(code: number, reason: string): void;
  /** Drop the connection at once, no close handshake (fault injection, dead peers). */
  abort(): void;
}
