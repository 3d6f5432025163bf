/**
 * What a Client can be given, and the settings it runs on: every option
 * resolved to its default once, at construction, so nothing downstream has to
 * know the defaults. Missing implementations (WebSocket, EventSource, fetch)
 * fail here, with a message that says what to pass.
 */
import type { TransportName, WebSocketConstructor } from './connection.js';
import { type EventSourceConstructor, type FetchLike, deriveSseUrl } from './sse.js';

export interface Logger {
  debug?(...args: unknown[]): void;
  warn?(...args: unknown[]): void;
  error?(...args: unknown[]): void;
}

export interface ClientOptions {
  /** ws://host:port/ws */
  url: string;
  /** Called before every connect attempt and for every token refresh. Throw UnauthorizedError to stop for good. */
  getToken?: () => string | Promise<string>;
  /** A static token, used when there is no getToken. */
  token?: string;
  /**
   * What the app's connect hook sees as `data` (docs/backends.md), sent with
   * every connect attempt; a function is called per attempt. The gateway itself
   * does not read it.
   */
  connectData?: unknown | (() => unknown);
  /** Client name and version, shown in server logs. */
  name?: string;
  version?: string;
  /** Reconnect backoff bounds in ms (defaults 500 and 20 000). */
  minReconnectDelay?: number;
  maxReconnectDelay?: number;
  /** Consecutive failed attempts before giving up (state `failed`); default Infinity. */
  maxReconnectAttempts?: number;
  /** Ms to wait for a command reply, and for the connect handshake (default 10 000). */
  timeout?: number;
  /** Publishes held while not connected (default 100). */
  offlineQueueSize?: number;
  /** Extra ms of silence tolerated beyond the server's ping period before reconnecting (default 10 000). */
  maxServerPingDelay?: number;
  /** WebSocket implementation; defaults to the one set with setDefaultWebSocket, then globalThis.WebSocket. */
  WebSocket?: WebSocketConstructor;
  /**
   * Transports in order of preference (default `['websocket']`). With
   * `['websocket', 'sse']` the client falls back to SSE by itself when the
   * WebSocket cannot connect, and moves back once it can.
   */
  transports?: TransportName[];
  /** The SSE endpoint; by default `url` with ws→http and /ws→/sse. */
  sseUrl?: string;
  /** Attempts in a row that fail before connecting, after which the next transport is tried (default 2). */
  fallbackAfter?: number;
  /** On a fallback transport, how often to check whether the WebSocket works again, ms (default 60 000). */
  upgradeInterval?: number;
  /** EventSource implementation (SSE); defaults to the one set with setDefaultEventSource, then the global. */
  EventSource?: EventSourceConstructor;
  /** fetch implementation for SSE commands; defaults to the global. */
  fetch?: FetchLike;
  /** SSE: send cookies cross-origin (when the token lives in a cookie). */
  withCredentials?: boolean;
  /** Where to report listener exceptions and errors nobody listens to. */
  logger?: Logger;
}

/** ClientOptions with every default filled in. */
export interface Settings {
  url: string;
  getToken: (() => string | Promise<string>) | undefined;
  token: string | undefined;
  connectData: (() => unknown) | undefined;
  name: string;
  version: string;
  minReconnectDelay: number;
  maxReconnectDelay: number;
  maxReconnectAttempts: number;
  timeout: number;
  offlineQueueSize: number;
  maxServerPingDelay: number;
  WebSocket: WebSocketConstructor | undefined;
  transports: TransportName[];
  sseUrl: string;
  fallbackAfter: number;
  upgradeInterval: number;
  EventSource: EventSourceConstructor | undefined;
  fetch: FetchLike | undefined;
  withCredentials: boolean;
  logger: Logger | undefined;
}

export const CLIENT_NAME = '@tidings/client';
export const CLIENT_VERSION = '0.1.0';

/** Throws a TypeError when a transport asked for cannot work with what was given. */
export function settings(o: ClientOptions): Settings {
  const transports = o.transports ?? ['websocket'];
  if (transports.includes('websocket') && !o.WebSocket) {
    throw new TypeError('tidings: no WebSocket implementation; pass options.WebSocket or use createClient');
  }
  if (transports.includes('sse') && (!o.EventSource || !o.fetch)) {
    throw new TypeError('tidings: SSE needs EventSource and fetch; pass options.EventSource and options.fetch or use createClient');
  }
  const sseUrl = o.sseUrl ?? deriveSseUrl(o.url) ?? '';
  if (transports.includes('sse') && !sseUrl) throw new TypeError('tidings: pass options.sseUrl (url does not end in /ws)');
  return {
    url: o.url,
    getToken: o.getToken,
    token: o.token,
    connectData: dataSource(o.connectData),
    name: o.name ?? CLIENT_NAME,
    version: o.version ?? CLIENT_VERSION,
    minReconnectDelay: o.minReconnectDelay ?? 500,
    maxReconnectDelay: o.maxReconnectDelay ?? 20_000,
    maxReconnectAttempts: o.maxReconnectAttempts ?? Infinity,
    timeout: o.timeout ?? 10_000,
    offlineQueueSize: o.offlineQueueSize ?? 100,
    maxServerPingDelay: o.maxServerPingDelay ?? 10_000,
    WebSocket: o.WebSocket,
    transports,
    sseUrl,
    fallbackAfter: o.fallbackAfter ?? 2,
    upgradeInterval: o.upgradeInterval ?? 60_000,
    EventSource: o.EventSource,
    fetch: o.fetch,
    withCredentials: o.withCredentials ?? false,
    logger: o.logger,
  };
}

function dataSource(data: unknown): (() => unknown) | undefined {
  if (data === undefined) return undefined;
  return typeof data === 'function' ? (data as () => unknown) : () => data;
}
