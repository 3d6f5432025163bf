/**
 * The connection: connect handshake, reconnect with backoff, resubscribe with
 * recovery, commands and their replies, ping watchdog, RPC, and the choice of
 * transport (WebSocket, with SSE as a fallback). The Client coordinates; token
 * refresh, the offline publish queue, server-side subscriptions, the way back
 * to the WebSocket and the browser's network events live in their own modules.
 *
 * Every entry point (socket event, timer, app call) first brings the internal
 * state to a consistent point and only then emits events, and re-checks after
 * each emit: a listener may call connect(), disconnect() or unsubscribe()
 * from inside any event.
 */
import {
  type ClientFrame,
  CloseCode,
  type CommandMap,
  type ConnectParams,
  type ConnectResult,
  ErrorCode,
  type HistoryResult,
  type Method,
  PROTOCOL_VERSION,
  type PresenceResult,
  type Publication,
  type Push,
  type Reply,
  type ResultMap,
  type RpcResult,
  type ServerFrame,
  type StreamPosition,
  type SubscribeParams,
  type SubscribeResult,
  type UnsubPush,
  backoffDelay,
  closeReason,
  isValidChannel,
  shouldReconnect,
} from '@tidings/protocol';
import { type Connection, type ConnectionEvents, type TransportName, type WebSocketConstructor, WebSocketConnection } from './connection.js';
import { Emitter } from './emitter.js';
import { ClientCode, ClientErrorCode, TidingsError, isUnauthorized, toError } from './errors.js';
import { NetworkWatch } from './network-watch.js';
import { OfflineQueue } from './offline-queue.js';
import {
  type CodeContext,
  type HistoryOptions,
  type PresenceEvent,
  type StateContext,
  type SubscribedContext,
  Subscription,
  type SubscriptionHost,
  type SubscriptionOptions,
  publicationOf,
} from './subscription.js';
import { type RpcOptions, abortError, rpcParams } from './rpc.js';
import { ServerSubs } from './server-subs.js';
import { type EventSourceConstructor, type FetchLike, SseConnection, deriveSseUrl } from './sse.js';
import { type Timer, startTimer, stopTimer } from './timers.js';
import { TokenRefresh } from './token-refresh.js';
import { TransportPicker } from './transports.js';
import { UpgradeWatch } from './upgrade-watch.js';

export type { TransportName, WebSocketConstructor, WebSocketLike } from './connection.js';

export type ClientState = 'disconnected' | 'connecting' | 'connected' | 'failed';

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

interface Settings {
  url: string;
  getToken: (() => string | Promise<string>) | undefined;
  token: string | undefined;
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

type ReplyCallback<R> = (err: TidingsError | null, result?: R) => void;

interface Pending {
  cb: ReplyCallback<unknown>;
  timer?: Timer;
  /** Partial replies of a streamed RPC. */
  onChunk?: (chunk: unknown) => void;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
  timer?: Timer;
}

export const CLIENT_NAME = '@tidings/client';
export const CLIENT_VERSION = '0.1.0';

const noop = (): void => {};

function settings(o: ClientOptions): Settings {
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

export class Client extends Emitter<ClientEvents> {
  private _state: ClientState = 'disconnected';
  private readonly opts: Settings;
  private readonly subs = new Map<string, Subscription<unknown>>();
  /** Channel → id of the subscribe (or connect) command in flight for it. At most one per channel. */
  private readonly inflight = new Map<string, number>();
  /** Channels whose subscribe failed temporarily, waiting to retry, and their attempt counts. */
  private readonly subRetry = new Map<string, Timer>();
  private readonly subAttempts = new Map<string, number>();
  private readonly serverSubs: ServerSubs;
  private conn: Connection | null = null;
  private readonly picker: TransportPicker;
  private readonly upgrade: UpgradeWatch;
  /** The current attempt got its connect reply. */
  private attemptConnected = false;
  /** Set from the connect reply until the transport goes: commands may be sent. */
  private _session: Session | null = null;
  /** Bumped whenever a transport is torn down or an attempt starts: async work from before is stale. */
  private gen = 0;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private attempts = 0;
  private reconnectTimer: Timer | null = null;
  private handshakeTimer: Timer | null = null;
  private pingTimer: Timer | null = null;
  private lastFrameAt = 0;
  private readonly refresher: TokenRefresh;
  private readonly queue: OfflineQueue;
  private readonly readyWaiters = new Set<Waiter>();
  private lastFailure: CodeContext = { code: ClientCode.Manual, reason: 'not connected' };
  private readonly network = new NetworkWatch(() => this.onOnline(), () => this.onOffline());
  private readonly host: SubscriptionHost;

  constructor(options: ClientOptions) {
    super();
    this.opts = settings(options);
    this.picker = new TransportPicker(this.opts.transports, this.opts.fallbackAfter);
    this.upgrade = this.createUpgradeWatch();
    this.refresher = this.createTokenRefresh();
    this.queue = new OfflineQueue(this.opts.offlineQueueSize);
    this.serverSubs = new ServerSubs({
      emit: (event, payload) => this.emit(event, payload),
      reconnect: (code, reason) => this.lose(code, reason, true),
    });
    this.host = {
      subscribe: (sub) => this.startSubscription(sub),
      unsubscribe: (sub) => this.stopSubscription(sub),
      publish: (channel, data) => this.publish(channel, data),
      history: (channel, opts) => this.history(channel, opts),
      presence: (channel) => this.presence(channel),
      listenerError: (err, event) => this.onListenerError(err, event),
    };
  }

  get state(): ClientState {
    return this._state;
  }

  /** Client id and user of the current connection; null when not connected. */
  get session(): Session | null {
    return this._session && this._state === 'connected' ? { ...this._session } : null;
  }

  /** The transport of the current connection or attempt: 'websocket', 'sse', or null when there is none. */
  get transport(): TransportName | null {
    return this.conn?.kind ?? null;
  }

  // ------------------------------------------------------------ lifecycle (public)

  /** Start connecting, and keep reconnecting until disconnect() or a terminal failure. Idempotent. */
  connect(): void {
    if (this._state === 'connecting' || this._state === 'connected') return;
    this.attempts = 0;
    this.network.set(true);
    this.startAttempt();
    if (this.setState('connecting')) this.emit('connecting', { code: ClientCode.Manual, reason: 'connect called' });
  }

  /** Close and stay closed. Subscriptions stay registered and resubscribe, recovering, on the next connect(). */
  disconnect(): void {
    if (this._state === 'disconnected') return;
    this.teardown();
    this.network.set(false);
    const err = new TidingsError(ClientErrorCode.ClientClosed, 'client disconnected');
    this.settleWaiters(err);
    this.queue.drop(err);
    const ctx = { code: ClientCode.Manual, reason: 'disconnect called' };
    if (!this.setState('disconnected')) return;
    this.parkSubscriptions(ctx.code, ctx.reason);
    if (this.is('disconnected')) this.emit('disconnected', { ...ctx, reconnect: false });
  }

  /** Resolves when connected. Rejects when the client is (or becomes) disconnected or failed, or after `timeout` ms. */
  ready(timeout?: number): Promise<void> {
    if (this._state === 'connected') return Promise.resolve();
    if (this._state === 'disconnected') {
      return Promise.reject(new TidingsError(ClientErrorCode.ClientClosed, 'client is disconnected: call connect() first'));
    }
    if (this._state === 'failed') return Promise.reject(new TidingsError(this.lastFailure.code, this.lastFailure.reason));
    return new Promise((resolve, reject) => {
      const w: Waiter = { resolve, reject };
      if (timeout !== undefined) {
        w.timer = startTimer(timeout, () => {
          this.readyWaiters.delete(w);
          reject(new TidingsError(ClientErrorCode.Timeout, 'not connected in time', true));
        });
      }
      this.readyWaiters.add(w);
    });
  }

  // ------------------------------------------------------------ subscriptions (public)

  /**
   * Subscribe to `channel`: now if connected, else with the next connect.
   * Throws if this client already has an active subscription to it.
   */
  subscribe<T = unknown>(channel: string, opts: SubscriptionOptions<T> = {}): Subscription<T> {
    if (!isValidChannel(channel)) throw new TidingsError(ErrorCode.UnknownChannel, `invalid channel name ${JSON.stringify(channel)}`);
    const existing = this.subs.get(channel);
    if (existing && existing.state !== 'unsubscribed') {
      throw new TidingsError(ErrorCode.AlreadySubscribed, `already subscribed to ${channel}`);
    }
    const sub = new Subscription<T>(channel, this.host, opts);
    this.subs.set(channel, sub as Subscription<unknown>);
    sub.subscribe();
    return sub;
  }

  getSubscription<T = unknown>(channel: string): Subscription<T> | undefined {
    return this.subs.get(channel) as Subscription<T> | undefined;
  }

  /** Unsubscribe and forget the subscription, freeing its channel name on this client. */
  removeSubscription(sub: Subscription<any>): void {
    sub.unsubscribe();
    if (this.subs.get(sub.channel) === sub) this.subs.delete(sub.channel);
  }

  // ------------------------------------------------------------ commands (public)

  /** Publish; while not connected the publish waits in the offline queue (rejects at once when it is full). */
  publish(channel: string, data: unknown): Promise<StreamPosition> {
    if (this._session) return this.request('publish', { channel, data });
    return this.queue.add(channel, data);
  }

  presence(channel: string): Promise<PresenceResult> {
    return this.request('presence', { channel });
  }

  history(channel: string, opts: HistoryOptions = {}): Promise<HistoryResult> {
    const params: CommandMap['history'] = { channel };
    if (opts.limit !== undefined) params.limit = opts.limit;
    if (opts.since) params.since = { offset: opts.since.offset, epoch: opts.since.epoch };
    return this.request('history', params).then((h) => ({ ...h, publications: h.publications.map((p) => publicationOf(p)) }));
  }

  /**
   * Call an RPC method; resolves with the final result. `onChunk` gets the
   * streamed partial results in order. Bytes (Uint8Array, ArrayBuffer) go
   * as bytes, and come back as Uint8Array.
   */
  rpc<R = unknown, C = unknown>(method: string, data?: unknown, opts: RpcOptions<C> = {}): Promise<{ data: R }> {
    const { signal, onChunk } = opts;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (!this._session) return Promise.reject(new TidingsError(ErrorCode.NotConnected, 'not connected'));
    const timeout = opts.timeout ?? this.opts.timeout;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        if (!this.dropPending(id)) return;
        this.sendCancel(id);
        reject(abortError(signal!));
      };
      const id = this.command(
        'rpc',
        rpcParams(method, data, onChunk !== undefined),
        (err, res) => {
          signal?.removeEventListener('abort', onAbort);
          if (err?.code === ClientErrorCode.Timeout) this.sendCancel(id);
          if (err || !res) reject(err ?? new TidingsError(ErrorCode.Internal, 'empty rpc reply'));
          else resolve({ data: (res as RpcResult).data as R });
        },
        timeout > 0 ? timeout : null,
        onChunk as ((chunk: unknown) => void) | undefined,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Tell the server to stop RPC `id` (its handler's signal fires). */
  private sendCancel(id: number): void {
    if (this._session) this.command('cancel', { id }, noop, null);
  }

  // ------------------------------------------------------------ connecting

  private startAttempt(): void {
    const gen = ++this.gen;
    const { getToken, token } = this.opts;
    Promise.resolve()
      .then(() => (getToken ? getToken() : token))
      .then(
        (t) => {
          if (gen === this.gen) this.open(t);
        },
        (err: unknown) => {
          if (gen === this.gen) this.onTokenError(err);
        },
      );
  }

  private onTokenError(err: unknown): void {
    if (isUnauthorized(err)) return this.failUnauthorized(err);
    // Anything else (network, auth server down) is worth another try later.
    this.lose(ClientCode.TransportError, `getToken failed: ${toError(err).message}`, true);
    this.emitError(toError(err));
  }

  private open(token: string | undefined): void {
    let conn: Connection;
    const current = (): boolean => this.conn === conn;
    const events: ConnectionEvents = {
      open: () => current() && this.sendConnect(conn, token),
      frame: (f) => current() && this.onFrame(f),
      error: (err) => current() && this.onUnreadable(err),
      close: (code, reason) => current() && this.onClose(code, reason),
    };
    try {
      conn = this.createConnection(events);
    } catch (err) {
      // A malformed URL will not get better by retrying.
      this.fail(ClientCode.TransportError, `cannot open ${this.picker.current}: ${toError(err).message}`);
      return this.emitError(toError(err));
    }
    this.conn = conn;
    this.nextId = 1;
    this.attemptConnected = false;
    this.handshakeTimer = startTimer(this.opts.timeout, () => this.lose(ClientCode.Timeout, 'connect timeout', true));
  }

  private createConnection(events: ConnectionEvents): Connection {
    const o = this.opts;
    if (this.picker.current === 'websocket') return new WebSocketConnection(o.WebSocket!, o.url, events);
    return new SseConnection({ url: o.sseUrl, EventSource: o.EventSource!, fetch: o.fetch!, withCredentials: o.withCredentials }, events);
  }

  /** The connect command carries every wanted subscription, with its position, so all recover in one round trip. */
  private sendConnect(conn: Connection, token: string | undefined): void {
    const subs: SubscribeParams[] = [];
    for (const sub of this.subs.values()) {
      if (sub.state !== 'subscribing') continue;
      this.clearSubRetry(sub.channel);
      subs.push(sub._subscribeParams());
    }
    const params: ConnectParams = { name: this.opts.name, version: this.opts.version, protocol: PROTOCOL_VERSION, subs };
    if (token !== undefined) params.token = token;
    const serverSubs = this.serverSubs.connectParam();
    if (serverSubs) params.serverSubs = serverSubs;
    const id = this.command('connect', params, (err, res) => this.onConnectReply(conn, id, err, res), null);
    for (const s of subs) this.inflight.set(s.channel, id);
  }

  private onConnectReply(conn: Connection, id: number, err: TidingsError | null, res: ConnectResult | undefined): void {
    if (this.conn !== conn) return;
    stopTimer(this.handshakeTimer);
    this.handshakeTimer = null;
    if (err || !res) return this.onConnectError(err ?? new TidingsError(ErrorCode.Internal, 'empty connect reply', true));
    this.startSession(res);
    if (!this.setState('connected')) return;
    this.emit('connected', { client: res.client, user: res.user, transport: conn.kind });
    for (const r of res.subs ?? []) {
      if (this.conn !== conn) return;
      const failed = 'error' in r ? TidingsError.from(r.error) : null;
      this.onSubscribeReply(r.channel, id, failed, failed ? undefined : (r as SubscribeResult));
    }
    // Channels the reply said nothing about get a subscribe of their own below.
    for (const [channel, cid] of this.inflight) if (cid === id) this.inflight.delete(channel);
    this.serverSubs.apply(res.serverSubs ?? [], () => this.conn === conn);
    if (this.conn === conn) this.syncSubscriptions();
  }

  /** Internal state of a fresh connection, before anyone is told. */
  private startSession(res: ConnectResult): void {
    this._session = { client: res.client, user: res.user, ping: res.ping, pong: res.pong };
    this.attempts = 0;
    this.attemptConnected = true;
    this.picker.connected();
    if (this.picker.onFallback) this.upgrade.start();
    this.lastFrameAt = Date.now();
    this.armPingWatch();
    this.refresher.start(res.ttl);
    // Queued publishes go first, ahead of anything a `connected` listener sends.
    this.queue.flush((channel, data, done) => this.command('publish', { channel, data }, done));
    this.settleWaiters();
  }

  private onConnectError(err: TidingsError): void {
    if (err.code === ErrorCode.Unauthorized) return this.fail(CloseCode.InvalidToken, err.message);
    if (err.code === ErrorCode.TokenExpired) return this.fail(CloseCode.TokenExpired, err.message);
    if (err.temporary) return this.lose(err.code, err.message, true);
    this.fail(err.code, err.message);
  }

  // ------------------------------------------------------------ losing the connection

  private onClose(code: number, reason: string): void {
    this.lose(code, reason || closeReason[code] || 'connection closed', shouldReconnect(code));
  }

  /**
   * The connection (or the attempt) is gone: reconnect after a backoff delay
   * (none for a transport switch), unless told not to.
   */
  private lose(code: number, reason: string, reconnect: boolean): void {
    if (!reconnect) return this.fail(code, reason);
    const switching = code === ClientCode.TransportSwitch;
    if (!switching && this.attempts >= this.opts.maxReconnectAttempts) {
      return this.fail(ClientCode.TooManyAttempts, `too many reconnect attempts (last: ${code} ${reason})`);
    }
    // An attempt that never got its connect reply counts against its transport (see TransportPicker).
    if (this.conn && !this.attemptConnected && !switching) this.picker.failed();
    const wasConnected = this._state === 'connected';
    const entering = this._state !== 'connecting';
    // A link that stopped answering would not complete a closing handshake either.
    this.teardown(code === ClientCode.NoPing || code === ClientCode.Timeout || code === ClientCode.Offline);
    const delay = switching ? 0 : backoffDelay(++this.attempts, this.opts.minReconnectDelay, this.opts.maxReconnectDelay);
    // The one timer left referenced: it stands for the socket between two attempts, so a Node process
    // that only waits on this client survives a gateway restart instead of exiting in the gap.
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.startAttempt();
    }, delay);
    if (!this.setState('connecting')) return;
    this.parkSubscriptions(code, reason);
    if (wasConnected && this.is('connecting')) this.emit('disconnected', { code, reason, reconnect: true });
    if (entering && this.is('connecting')) this.emit('connecting', { code, reason });
  }

  /** getToken refused for good: retrying would not help. */
  private failUnauthorized(err: unknown): void {
    this.fail(CloseCode.InvalidToken, toError(err).message || 'unauthorized');
  }

  /** Stop for good (until the app calls connect() again). */
  private fail(code: number, reason: string): void {
    if (this._state === 'failed') return;
    const wasConnected = this._state === 'connected';
    this.teardown();
    this.network.set(false);
    this.lastFailure = { code, reason };
    this.settleWaiters(new TidingsError(code, reason));
    this.queue.drop(new TidingsError(ClientErrorCode.ClientClosed, `client failed: ${reason}`));
    if (!this.setState('failed')) return;
    this.parkSubscriptions(code, reason);
    if (wasConnected && this.is('failed')) this.emit('disconnected', { code, reason, reconnect: false });
    if (this.is('failed')) this.emit('failed', { code, reason });
  }

  /** Forget the transport and everything tied to it. Emits nothing. */
  private teardown(deadLink = false): void {
    this.gen++;
    for (const t of [this.reconnectTimer, this.handshakeTimer, this.pingTimer]) stopTimer(t);
    this.reconnectTimer = this.handshakeTimer = this.pingTimer = null;
    this.refresher.stop();
    for (const t of this.subRetry.values()) stopTimer(t);
    this.subRetry.clear();
    this.subAttempts.clear();
    // Before failing the pending commands, so late subscribe callbacks see they are stale.
    this.inflight.clear();
    this._session = null;
    this.upgrade.stop();
    const conn = this.conn;
    this.conn = null;
    conn?.close(deadLink);
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      stopTimer(p.timer);
      p.cb(new TidingsError(ClientErrorCode.ConnectionLost, 'connection lost', true));
    }
  }

  /** Subscribed channels wait for the next connection, which recovers them. */
  private parkSubscriptions(code: number, reason: string): void {
    for (const sub of [...this.subs.values()]) if (sub.state === 'subscribed') sub._setSubscribing(code, reason);
  }

  // ------------------------------------------------------------ frames

  private onFrame(frame: ServerFrame): void {
    this.lastFrameAt = Date.now();
    if (typeof (frame as Reply).id === 'number') this.onReply(frame as Reply);
    else this.onPush(frame as Push);
  }

  private onUnreadable(err: Error): void {
    this.lastFrameAt = Date.now();
    this.emitError(err);
  }

  private onReply(reply: Reply): void {
    const p = this.pending.get(reply.id);
    if (!p) return; // timed out or aborted already
    if (reply.result === undefined && reply.error === undefined && 'chunk' in reply) return this.onChunk(p, reply.chunk);
    this.pending.delete(reply.id);
    stopTimer(p.timer);
    if (reply.error) p.cb(TidingsError.from(reply.error));
    else p.cb(null, reply.result);
    this.upgrade.switchIfIdle();
  }

  private onChunk(p: Pending, chunk: unknown): void {
    try {
      p.onChunk?.(chunk);
    } catch (err) {
      this.onListenerError(err, 'rpc onChunk');
    }
  }

  /** Forget a pending command (no reply expected any more). False when it was already settled. */
  private dropPending(id: number): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    this.pending.delete(id);
    stopTimer(p.timer);
    this.upgrade.switchIfIdle();
    return true;
  }

  private onPush(push: Push): void {
    switch (push.type) {
      case 'pub':
        return this.onPublication(push);
      case 'join':
      case 'leave':
        return this.onPresence(push.type, push.channel, push.info);
      case 'unsub':
        return this.onUnsub(push);
      case 'disconnect':
        return this.lose(push.code, push.reason, push.reconnect ?? shouldReconnect(push.code));
      case 'ping':
        return this.sendFrame({ method: 'pong' });
      case 'refresh':
        return this.refresher.refresh();
      case 'error':
        return this.emitError(TidingsError.from(push.error));
    }
  }

  private onPublication(pub: Publication): void {
    const sub = this.subs.get(pub.channel);
    if (sub) {
      if (sub._applyPublication(pub) === 'gap') this.recoverGap(sub);
    } else if (this._session) {
      this.serverSubs.onPublication(pub);
    }
  }

  private onPresence(type: 'join' | 'leave', channel: string, info: PresenceEvent['info']): void {
    const sub = this.subs.get(channel);
    if (sub) sub._applyPresence(type, info);
    else this.serverSubs.onPresence(type, channel, info);
  }

  private onUnsub(push: UnsubPush): void {
    const sub = this.subs.get(push.channel);
    if (sub) {
      // Not subscribed: the push is about an older subscription and a subscribe is already on its way.
      if (sub.state !== 'subscribed') return;
      if (!push.resubscribe) return sub._setUnsubscribed(push.code, push.reason);
      this.sendSubscribe(sub);
      return sub._setSubscribing(push.code, push.reason);
    }
    this.serverSubs.onUnsub(push);
  }

  // ------------------------------------------------------------ subscriptions (wire)

  private startSubscription(sub: Subscription<unknown>): void {
    const current = this.subs.get(sub.channel);
    if (current !== sub) {
      if (current && current.state !== 'unsubscribed') {
        throw new TidingsError(ErrorCode.AlreadySubscribed, `already subscribed to ${sub.channel}`);
      }
      this.subs.set(sub.channel, sub);
    }
    if (sub.state !== 'unsubscribed') return;
    sub._setSubscribing(ClientCode.Manual, 'subscribe called');
    this.syncSubscription(sub);
  }

  private stopSubscription(sub: Subscription<unknown>): void {
    if (sub.state === 'unsubscribed') return;
    this.clearSubRetry(sub.channel);
    // With a subscribe in flight, its reply triggers the unsubscribe (see onSubscribeReply).
    if (sub.state === 'subscribed' && this._session) this.sendUnsubscribe(sub.channel);
    sub._setUnsubscribed(ClientCode.Manual, 'unsubscribe called');
  }

  private syncSubscriptions(): void {
    for (const sub of [...this.subs.values()]) this.syncSubscription(sub);
  }

  /** Send a subscribe if the subscription wants one and nothing is already on its way. */
  private syncSubscription(sub: Subscription<unknown>): void {
    if (sub.state !== 'subscribing' || !this._session || this.subs.get(sub.channel) !== sub) return;
    if (this.inflight.has(sub.channel) || this.subRetry.has(sub.channel)) return;
    this.sendSubscribe(sub);
  }

  private sendSubscribe(sub: Subscription<unknown>): void {
    if (!this._session) return;
    const { channel } = sub;
    const id = this.command('subscribe', sub._subscribeParams(), (err, res) => this.onSubscribeReply(channel, id, err, res));
    this.inflight.set(channel, id);
  }

  private sendUnsubscribe(channel: string): void {
    if (this._session) this.command('unsubscribe', { channel }, noop);
  }

  /** A gap in the stream: drop the subscription and take it again from the last position delivered. */
  private recoverGap(sub: Subscription<unknown>): void {
    if (!this._session) return;
    this.sendUnsubscribe(sub.channel);
    this.sendSubscribe(sub);
    sub._setSubscribing(CloseCode.InsufficientState, 'insufficient state');
  }

  /** A subscribe reply (own command or part of connect), routed by channel to whoever holds it now. */
  private onSubscribeReply(channel: string, id: number, err: TidingsError | null, res: SubscribeResult | undefined): void {
    if (this.inflight.get(channel) !== id) return;
    this.inflight.delete(channel);
    const sub = this.subs.get(channel);
    if (!sub || sub.state !== 'subscribing') {
      // Unsubscribed while the subscribe was on its way: the server has it now, so undo.
      if (!err) this.sendUnsubscribe(channel);
      return;
    }
    if (err) return this.onSubscribeError(sub, err);
    this.subAttempts.delete(channel);
    if (res) sub._applySubscribed(res);
  }

  private onSubscribeError(sub: Subscription<unknown>, err: TidingsError): void {
    // No answer: we no longer know what the server holds, so start over on a new connection.
    if (err.code === ClientErrorCode.Timeout) return this.lose(ClientCode.Timeout, 'subscribe timeout', true);
    if (err.temporary) {
      const { channel } = sub;
      const attempt = (this.subAttempts.get(channel) ?? 0) + 1;
      this.subAttempts.set(channel, attempt);
      const delay = backoffDelay(attempt, this.opts.minReconnectDelay, this.opts.maxReconnectDelay);
      this.subRetry.set(
        channel,
        startTimer(delay, () => {
          this.subRetry.delete(channel);
          const current = this.subs.get(channel);
          if (current) this.syncSubscription(current);
        }),
      );
      return sub._error(err);
    }
    sub._error(err);
    sub._setUnsubscribed(err.code, err.message);
  }

  private clearSubRetry(channel: string): void {
    stopTimer(this.subRetry.get(channel));
    this.subRetry.delete(channel);
  }

  // ------------------------------------------------------------ commands (wire)

  private request<M extends Method>(method: M, params: CommandMap[M]): Promise<ResultMap[M]> {
    if (!this._session) return Promise.reject(new TidingsError(ErrorCode.NotConnected, 'not connected'));
    return new Promise((resolve, reject) => {
      this.command(method, params, (err, res) => (err ? reject(err) : resolve(res as ResultMap[M])));
    });
  }

  /**
   * Send a command; `cb` runs synchronously when its reply is read, so replies
   * and the pushes after them are handled in wire order. `timeout` null: none.
   */
  private command<M extends Method>(
    method: M,
    params: CommandMap[M],
    cb: ReplyCallback<ResultMap[M]>,
    timeout: number | null = this.opts.timeout,
    onChunk?: (chunk: unknown) => void,
  ): number {
    const id = this.nextId++;
    const p: Pending = { cb: cb as ReplyCallback<unknown> };
    if (onChunk) p.onChunk = onChunk;
    if (timeout !== null) {
      p.timer = startTimer(timeout, () => {
        if (this.pending.delete(id)) cb(new TidingsError(ClientErrorCode.Timeout, `${method} timed out`, true));
      });
    }
    this.pending.set(id, p);
    this.sendFrame({ id, method, params } as ClientFrame);
    return id;
  }

  private sendFrame(frame: ClientFrame): void {
    try {
      this.conn?.send(frame);
    } catch (err) {
      // The socket is closing; its close event rejects whatever is pending.
      this.emitError(toError(err));
    }
  }

  private settleWaiters(err?: Error): void {
    const waiters = [...this.readyWaiters];
    this.readyWaiters.clear();
    for (const w of waiters) {
      stopTimer(w.timer);
      if (err) w.reject(err);
      else w.resolve();
    }
  }

  // ------------------------------------------------------------ parts (wiring)

  /** Once the WebSocket works again, switch back when connected and no command is in flight. */
  private createUpgradeWatch(): UpgradeWatch {
    const o = this.opts;
    return new UpgradeWatch(
      this.picker,
      { WebSocket: o.WebSocket, url: o.url, interval: o.upgradeInterval, timeout: o.timeout },
      {
        idle: () => this._session !== null && this.pending.size === 0,
        switchBack: () => this.lose(ClientCode.TransportSwitch, 'switching back to websocket', true),
      },
    );
  }

  /** Refreshes are tied to `gen`: one begun on a connection that has since gone is dropped. */
  private createTokenRefresh(): TokenRefresh {
    return new TokenRefresh(this.opts.getToken, {
      generation: () => this.gen,
      connected: () => this._session !== null,
      sendRefresh: (token, done) => this.command('refresh', { token }, done),
      unauthorized: (err) => this.failUnauthorized(err),
      error: (err) => this.emitError(err),
    });
  }

  // ------------------------------------------------------------ liveness

  /**
   * The server pings every `ping` s and waits up to `pong` s for the answer
   * before the next interval starts, so frames can be ping+pong apart on an
   * idle connection; beyond that plus maxServerPingDelay the link is dead.
   */
  private armPingWatch(): void {
    stopTimer(this.pingTimer);
    this.pingTimer = null;
    const s = this._session;
    if (!s || !(s.ping > 0)) return;
    const limit = (s.ping + Math.max(0, s.pong || 0)) * 1000 + this.opts.maxServerPingDelay;
    this.pingTimer = startTimer(Math.max(0, this.lastFrameAt + limit - Date.now()), () => {
      this.pingTimer = null;
      if (Date.now() - this.lastFrameAt >= limit) this.lose(ClientCode.NoPing, 'no ping', true);
      else this.armPingWatch();
    });
  }

  // ------------------------------------------------------------ browser network events

  /** Back online: no point waiting out the backoff. */
  private onOnline(): void {
    if (this._state !== 'connecting' || this.reconnectTimer === null) return;
    stopTimer(this.reconnectTimer);
    this.reconnectTimer = null;
    this.attempts = 0;
    this.startAttempt();
  }

  /** The socket may take minutes to notice on its own. */
  private onOffline(): void {
    if (this.conn) this.lose(ClientCode.Offline, 'offline', true);
  }

  // ------------------------------------------------------------ events

  /** State check that TypeScript does not narrow: listeners run inside emit() can change the state. */
  private is(state: ClientState): boolean {
    return this._state === state;
  }

  private setState(next: ClientState): boolean {
    const previous = this._state;
    if (previous === next) return true;
    this._state = next;
    this.emit('state', { state: next, previous });
    // False when a listener has already moved the client elsewhere.
    return this._state === next;
  }

  private emitError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else this.opts.logger?.warn?.('tidings:', err);
  }

  protected override onListenerError(err: unknown, event: string): void {
    if (event !== 'error' && this.listenerCount('error') > 0) return this.emit('error', toError(err));
    const log = this.opts.logger?.error;
    if (log) log.call(this.opts.logger, `tidings: a "${event}" listener threw`, err);
    else super.onListenerError(err, event);
  }
}
