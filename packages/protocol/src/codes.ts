/**
 * Error codes (in command replies) and close codes (in `disconnect` pushes and
 * WebSocket close frames). docs/protocol.md holds the same table for people.
 *
 * Close-code ranges encode the reconnect advice so that a client which does not
 * know a particular code still does the right thing:
 *   3000–3499  reconnect (with backoff) and recover
 *   3500–3999  terminal: do not reconnect until the application intervenes
 * Standard RFC 6455 codes (1000–1015) are reconnectable except 1000 sent by the
 * client itself.
 */

export const ErrorCode = {
  /** Something failed inside the server; safe to retry. */
  Internal: 100,
  /** The command needs an authenticated connection, or the token was refused. */
  Unauthorized: 101,
  /** Channel name is malformed or its namespace does not exist. */
  UnknownChannel: 102,
  /** The user may not do this on this channel. */
  PermissionDenied: 103,
  /** No such command method, or no such RPC method. */
  MethodNotFound: 104,
  /** The connection is already subscribed to this channel. */
  AlreadySubscribed: 105,
  /** A per-connection limit (channels, queue) would be exceeded. */
  LimitExceeded: 106,
  /** The frame or its parameters are invalid. */
  BadRequest: 107,
  /** The feature is turned off for this channel (history, presence…). */
  NotAvailable: 108,
  /** The token has expired; get a new one and send `refresh` or reconnect. */
  TokenExpired: 109,
  /** The connection has not sent `connect` yet. */
  NotConnected: 110,
  /** Too many commands; slow down and retry later. */
  TooManyRequests: 111,
  /** The engine (for example Redis) is unreachable; retry later. */
  Unavailable: 113,
  /** An RPC handler failed. */
  RpcFailed: 114,
  /** The RPC was cancelled by the client (`cancel`). */
  Cancelled: 115,
  /** A backend hook (docs/backends.md) failed, timed out or answered garbage; retry later. */
  HookFailed: 116,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Whether `code` is in the error-code range (100–199) rather than a close or HTTP code. */
export function isErrorCode(code: unknown): code is number {
  return typeof code === 'number' && code >= 100 && code <= 199;
}

/** Whether a client may retry the same command unchanged after this error. */
export function isTemporaryError(code: number): boolean {
  return code === ErrorCode.Internal || code === ErrorCode.TooManyRequests || code === ErrorCode.Unavailable || code === ErrorCode.HookFailed;
}

export const CloseCode = {
  // --- reconnect ---
  /** Server is shutting down or restarting; reconnect (maybe to another node). */
  Shutdown: 3001,
  /** The token expired and was not refreshed in time; reconnect with a new token. */
  ConnectionExpired: 3005,
  /** The outbound queue passed its byte limit: the client reads too slowly. */
  Slow: 3008,
  /** The server saw a gap it cannot fill live; reconnect and recover. */
  InsufficientState: 3010,
  /** Asked to reconnect by the operator (API `disconnect` with reconnect). */
  ForceReconnect: 3011,
  /** No pong came within the pong timeout. */
  NoPong: 3012,
  /** Too many commands in a short time. */
  TooManyRequests: 3013,
  /** No `connect` command arrived within the connect timeout. */
  Stale: 3014,
  /** The connect hook failed or timed out (fail closed); reconnect with backoff. */
  HookUnavailable: 3015,
  // --- terminal ---
  /** Bad or missing token: bad signature, `alg: none`, wrong audience/issuer, malformed. */
  InvalidToken: 3500,
  /** The client broke the protocol (too many malformed frames, command before connect). */
  BadRequest: 3501,
  /** The token had already expired when presented at connect. */
  TokenExpired: 3502,
  /** Disconnected by the operator without reconnect (user banned, logged out). */
  ForceDisconnect: 3503,
  /** Too many connections for this user or node. */
  ConnectionLimit: 3504,
  /** The connect hook refused the connection (no session, logged out, banned). */
  ConnectRefused: 3505,
  /** Protocol version not supported by this server. */
  UnsupportedProtocol: 3510,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Codes of an `unsub` push that are not close codes (an `unsub` may also carry CloseCode.InsufficientState). */
export const UnsubCode = {
  /** The operator ended the subscription (`/api/user/unsubscribe`); do not resubscribe. */
  ByServer: 2000,
} as const;
export type UnsubCode = (typeof UnsubCode)[keyof typeof UnsubCode];

/** The RFC 6455 close codes that Tidings sends or reads by name (the ones a client must not reconnect after among them). */
export const WsCloseCode = {
  /** A normal close (a client that closes itself sends it). */
  Normal: 1000,
  /** The peer broke the WebSocket protocol. */
  ProtocolError: 1002,
  /** The peer sent a kind of data it cannot take. */
  UnsupportedData: 1003,
  /** The link dropped without a close frame (also what a failed SSE stream reports). */
  Abnormal: 1006,
  /** A text frame was not valid UTF-8. */
  InvalidPayload: 1007,
  /** The peer refused on policy. */
  PolicyViolation: 1008,
  /** A frame was larger than `client.maxMessageBytes`. */
  MessageTooBig: 1009,
} as const;
export type WsCloseCode = (typeof WsCloseCode)[keyof typeof WsCloseCode];

/**
 * Reconnect advice for any close code, including ones this version does not
 * know. 1000 (normal) from the server means it wants the client gone; a client
 * that closed itself never asks this question.
 */
export function shouldReconnect(code: number): boolean {
  if (TERMINAL_RANGES.some(([from, to]) => code >= from && code <= to)) return false;
  return !NO_RECONNECT_WS.has(code);
}

/** Close-code ranges that are terminal whatever the code (the header of this file). */
const TERMINAL_RANGES: ReadonlyArray<readonly [number, number]> = [
  [3500, 3999],
  [4500, 4999],
];

/** RFC 6455 codes that mean the other side will refuse the same connection again. */
const NO_RECONNECT_WS: ReadonlySet<number> = new Set([
  WsCloseCode.Normal,
  WsCloseCode.ProtocolError,
  WsCloseCode.UnsupportedData,
  WsCloseCode.InvalidPayload,
  WsCloseCode.PolicyViolation,
]);

export const closeReason: Record<number, string> = {
  [CloseCode.Shutdown]: 'shutdown',
  [CloseCode.ConnectionExpired]: 'connection expired',
  [CloseCode.Slow]: 'slow',
  [CloseCode.InsufficientState]: 'insufficient state',
  [CloseCode.ForceReconnect]: 'force reconnect',
  [CloseCode.NoPong]: 'no pong',
  [CloseCode.TooManyRequests]: 'too many requests',
  [CloseCode.Stale]: 'stale',
  [CloseCode.HookUnavailable]: 'hook unavailable',
  [CloseCode.InvalidToken]: 'invalid token',
  [CloseCode.BadRequest]: 'bad request',
  [CloseCode.TokenExpired]: 'token expired',
  [CloseCode.ForceDisconnect]: 'force disconnect',
  [CloseCode.ConnectionLimit]: 'connection limit',
  [CloseCode.ConnectRefused]: 'connect refused',
  [CloseCode.UnsupportedProtocol]: 'unsupported protocol',
};
