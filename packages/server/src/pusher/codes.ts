/**
 * Pusher close codes (pusher-websockets-protocol, "Error codes"), and how
 * Tidings' own close codes read in them: 4000–4099 do not reconnect
 * unchanged, 4100–4199 back off then reconnect, 4200–4299 reconnect at once.
 * pusher-js acts on the range, so each Tidings code keeps its advice.
 */
import { CloseCode, shouldReconnect } from '@tidings/protocol';

export const PusherCode = {
  /** No app has this key. */
  UnknownApp: 4001,
  /** Over the app's connection quota. */
  OverQuota: 4004,
  /** The `protocol` query parameter names a version this server does not speak. */
  UnsupportedProtocol: 4007,
  /** No `protocol` query parameter. */
  NoProtocol: 4008,
  /** Not authorized: origin refused, connection terminated by the app, bad token. */
  Unauthorized: 4009,
  /** Back off, then reconnect: the server is over capacity or the client too slow. */
  BackOff: 4100,
  /** Reconnect at once (the node is shutting down: another node takes the socket). */
  Reconnect: 4200,
  /** No pong (or nothing at all) in time. */
  NoPong: 4201,
  /** A client event over the rate limit (the socket stays open). */
  ClientEventRate: 4301,
} as const;

const FROM_TIDINGS: ReadonlyMap<number, number> = new Map([
  [CloseCode.Shutdown, PusherCode.Reconnect],
  [CloseCode.ForceReconnect, PusherCode.Reconnect],
  [CloseCode.InsufficientState, PusherCode.Reconnect],
  [CloseCode.ConnectionExpired, PusherCode.Reconnect],
  [CloseCode.Slow, PusherCode.BackOff],
  [CloseCode.TooManyRequests, PusherCode.BackOff],
  [CloseCode.NoPong, PusherCode.NoPong],
  [CloseCode.Stale, PusherCode.NoPong],
  [CloseCode.ConnectionLimit, PusherCode.OverQuota],
  [CloseCode.UnsupportedProtocol, PusherCode.UnsupportedProtocol],
]);

/** The Pusher close code for a Tidings close code; an unknown one keeps its reconnect advice. */
export function pusherCloseCode(code: number): number {
  if (code >= 4000 && code <= 4999) return code;
  return FROM_TIDINGS.get(code) ?? (shouldReconnect(code) ? PusherCode.Reconnect : PusherCode.Unauthorized);
}
