/**
 * Errors the SDK hands to applications, and the client-side codes used in its
 * events. Server error codes (100–199) and close codes (1000+, 3000+) come
 * from @tidings/protocol; the client-side codes below stay under 100 so they
 * can never be mistaken for either.
 */
import { type ErrorBody, isTemporaryError } from '@tidings/protocol';

/** Codes of `TidingsError`s raised by the client itself (not sent by a server). */
export const ClientErrorCode = {
  /** No reply within `timeout`. The command may or may not have run. */
  Timeout: 1,
  /** The connection dropped while the command was in flight. */
  ConnectionLost: 2,
  /** The command was queued but the client was disconnected or failed before it could be sent. */
  ClientClosed: 3,
  /** The subscription was unsubscribed while waiting (sub.ready()). */
  Unsubscribed: 4,
  /** The application aborted the call (`rpc` with an AbortSignal). */
  Aborted: 5,
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/**
 * Codes in `connecting`, `disconnected`, `failed`, `subscribing` and
 * `unsubscribed` events that did not come from the server. Everything else in
 * those events is a WebSocket close code or a server code.
 */
export const ClientCode = {
  /** The application called connect(), disconnect(), subscribe() or unsubscribe(). */
  Manual: 0,
  /** No frame from the server within `ping` + `maxServerPingDelay`. */
  NoPing: 2,
  /** The connect handshake or a subscribe got no reply within `timeout`. */
  Timeout: 3,
  /** `maxReconnectAttempts` consecutive attempts failed. */
  TooManyAttempts: 4,
  /** The browser reported that the network went away. */
  Offline: 5,
  /** The WebSocket could not even be created (bad URL, no implementation). */
  TransportError: 6,
  /** The client moved to another transport (back to the WebSocket once it works again). */
  TransportSwitch: 7,
} as const;
export type ClientCode = (typeof ClientCode)[keyof typeof ClientCode];

/** A failed command or a refused operation. `temporary` means the same call may succeed later. */
export class TidingsError extends Error {
  override name = 'TidingsError';
  constructor(
    readonly code: number,
    message: string,
    readonly temporary = false,
  ) {
    super(message);
  }

  /** An error reply from the server. */
  static from(body: ErrorBody): TidingsError {
    return new TidingsError(body.code, body.message, body.temporary ?? isTemporaryError(body.code));
  }
}

/**
 * Throw this from `getToken` when the user is not allowed to connect at all
 * (logged out, revoked): the client stops (state `failed`) instead of retrying.
 */
export class UnauthorizedError extends Error {
  override name = 'UnauthorizedError';
  constructor(message = 'unauthorized') {
    super(message);
  }
}

/** Anything thrown, as an Error. */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** `getToken` refused for good (UnauthorizedError). */
export function isUnauthorized(err: unknown): boolean {
  // By name too, in case two copies of the SDK are loaded.
  return err instanceof UnauthorizedError || (err instanceof Error && err.name === 'UnauthorizedError');
}
