/**
 * The Client's state and the events it emits, with their payloads. Types
 * only: the parts that emit on the Client's behalf (server-side
 * subscriptions, the connection lifecycle) depend on these and not on the
 * Client.
 */
import type { Publication } from '@tidings/protocol';
import type { TransportName } from './connection.js';
import type { CodeContext, PresenceEvent, StateContext, SubscribedContext } from './subscription.js';

export type ClientState = 'disconnected' | 'connecting' | 'connected' | 'failed';

export interface ConnectedContext {
  client: string;
  user: string;
  /** Which transport carries this connection. */
  transport: TransportName;
}

export interface DisconnectedContext extends CodeContext {
  reconnect: boolean;
}

export interface ServerUnsubscribedContext extends CodeContext {
  channel: string;
}

export interface ClientEvents {
  state: StateContext<ClientState>;
  connecting: CodeContext;
  connected: ConnectedContext;
  disconnected: DisconnectedContext;
  failed: CodeContext;
  error: Error;
  /** Publications of server-side subscriptions (the user's personal channel). */
  publication: Publication;
  /** A server-side subscription was (re)established. */
  subscribed: SubscribedContext;
  /** The server ended a server-side subscription. */
  unsubscribed: ServerUnsubscribedContext;
  join: PresenceEvent;
  leave: PresenceEvent;
}

/** Who this connection is, once connected. */
export interface Session {
  client: string;
  user: string;
  /** Server ping interval and pong timeout, seconds. */
  ping: number;
  pong: number;
}
