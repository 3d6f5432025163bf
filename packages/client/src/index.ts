/**
 * @tidings/client, browser (and default) entry. No Node-only imports here:
 * the WebSocket comes from options, setDefaultWebSocket() or the global.
 */
import { Client, type ClientOptions, type WebSocketConstructor } from './client.js';

let defaultWebSocket: WebSocketConstructor | undefined;

/** The WebSocket used by clients created without `options.WebSocket` (the Node entry sets `ws`). */
export function setDefaultWebSocket(ctor: WebSocketConstructor | undefined): void {
  defaultWebSocket = ctor;
}

export function createClient(options: ClientOptions): Client {
  const WebSocket =
    options.WebSocket ?? defaultWebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!WebSocket) {
    throw new TypeError('tidings: no WebSocket implementation found; pass options.WebSocket or import the Node entry');
  }
  return new Client({ ...options, WebSocket });
}

export {
  Client,
  CLIENT_NAME,
  CLIENT_VERSION,
  type ClientEvents,
  type ClientOptions,
  type ClientState,
  type ConnectedContext,
  type DisconnectedContext,
  type Logger,
  type ServerUnsubscribedContext,
  type Session,
  type WebSocketConstructor,
  type WebSocketLike,
} from './client.js';
export {
  Subscription,
  type CodeContext,
  type HistoryOptions,
  type PresenceEvent,
  type StateContext,
  type SubscribedContext,
  type SubscriptionEvents,
  type SubscriptionOptions,
  type SubscriptionState,
} from './subscription.js';
export { ClientCode, ClientErrorCode, TidingsError, UnauthorizedError } from './errors.js';
export { Emitter, type Listener } from './emitter.js';

// What applications need from the protocol, so they do not have to depend on it.
export { CloseCode, ErrorCode, PROTOCOL_VERSION, closeReason, isTemporaryError, shouldReconnect } from '@tidings/protocol';
export type {
  ClientInfo,
  HistoryResult,
  PresenceEntry,
  PresenceResult,
  Publication,
  RpcResult,
  StreamPosition,
  SubscribeResult,
} from '@tidings/protocol';
