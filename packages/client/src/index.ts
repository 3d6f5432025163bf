/**
 * @tidings/client, browser (and default) entry. No Node-only imports here:
 * the WebSocket and EventSource come from options, the setDefault…()
 * functions or the globals.
 */
import { Client } from './client.js';
import type { WebSocketConstructor } from './connection.js';
import type { ClientOptions } from './options.js';
import type { EventSourceConstructor, FetchLike } from './sse.js';

let defaultWebSocket: WebSocketConstructor | undefined;
let defaultEventSource: EventSourceConstructor | undefined;

/** The WebSocket used by clients created without `options.WebSocket` (the Node entry sets `ws`). */
export function setDefaultWebSocket(ctor: WebSocketConstructor | undefined): void {
  defaultWebSocket = ctor;
}

/** The EventSource used by clients created without `options.EventSource` (the Node entry sets `eventsource`). */
export function setDefaultEventSource(ctor: EventSourceConstructor | undefined): void {
  defaultEventSource = ctor;
}

type Globals = { WebSocket?: WebSocketConstructor; EventSource?: EventSourceConstructor; fetch?: FetchLike };

export function createClient(options: ClientOptions): Client {
  const g = globalThis as Globals;
  const transports = options.transports ?? ['websocket'];
  const WebSocket = options.WebSocket ?? defaultWebSocket ?? g.WebSocket;
  if (!WebSocket && transports.includes('websocket')) {
    throw new TypeError('tidings: no WebSocket implementation found; pass options.WebSocket or import the Node entry');
  }
  const EventSource = options.EventSource ?? defaultEventSource ?? g.EventSource;
  // Called unbound, the browser's fetch throws "Illegal invocation".
  const fetch = options.fetch ?? (g.fetch ? g.fetch.bind(globalThis) : undefined);
  return new Client({
    ...options,
    ...(WebSocket ? { WebSocket } : {}),
    ...(EventSource ? { EventSource } : {}),
    ...(fetch ? { fetch } : {}),
  });
}

export { Client } from './client.js';
export { CLIENT_NAME, CLIENT_VERSION, type ClientOptions, type Logger } from './options.js';
export type {
  ClientEvents,
  ClientState,
  ConnectedContext,
  DisconnectedContext,
  ServerUnsubscribedContext,
  Session,
} from './client-events.js';
export type { TransportName, WebSocketConstructor, WebSocketLike } from './connection.js';
export type { EventSourceConstructor, EventSourceLike, FetchLike } from './sse.js';
export type { RpcOptions } from './rpc.js';
export {
  Subscription,
  type CodeContext,
  type HistoryOptions,
  type PresenceEvent,
  type Signal,
  type SignalOptions,
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
