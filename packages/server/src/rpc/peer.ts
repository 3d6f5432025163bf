/**
 * What an RPC call needs from the connection it runs on. Session implements
 * it (as it implements Member for the hub), so rpc/ never depends on the
 * session itself.
 */
import type { ErrorBody } from '@tidings/protocol';

export interface RpcPeer {
  /** The caller's user and client ids. */
  readonly user: string;
  readonly id: string;
  /** The `info` claim of the caller's token, if any. */
  readonly tokenInfo: unknown;
  readonly isClosed: boolean;
  /** Bytes waiting in the connection's outbound queue (for pacing a stream). */
  readonly queuedBytes: number;
  /** Whether the transport carries binary frames (WebSocket) or needs base64 text (SSE). */
  readonly canSendBinary: boolean;
  sendJson(json: string): void;
  sendBinary(headerJson: string, payload: Uint8Array): void;
  replyError(id: number, error: ErrorBody): void;
  disconnect(code: number, reason: string): void;
}
