/**
 * The connection lifecycle and the client state it drives: each attempt
 * (token, transport, connect handshake), the session it yields, and what
 * follows its loss: a reconnect after a backoff delay, or a stop for good
 * (`failed`). Also what ends a session from outside: the ping watchdog, the
 * browser going offline, a refused token refresh, the switch back to the
 * WebSocket.
 *
 * Every entry point (socket event, timer, app call) first brings the internal
 * state to a consistent point and only then emits events, and re-checks after
 * each emit: a listener may call connect(), disconnect() or unsubscribe()
 * from inside any event.
 */
import {
  type ClientFrame,
  CloseCode,
  type ConnectParams,
  type ConnectResult,
  ErrorCode,
  PROTOCOL_VERSION,
  type ServerFrame,
  backoffDelay,
  closeReason,
  shouldReconnect,
} from '@tidings/protocol';
import type { ClientEvents, ClientState, Session } from './client-events.js';
import type { Connection, ConnectionEvents, TransportName } from './connection.js';
import { ClientCode, ClientErrorCode, TidingsError, isUnauthorized, toError } from './errors.js';
import { NetworkWatch } from './network-watch.js';
import type { OfflineQueue } from './offline-queue.js';
import type { Settings } from './options.js';
import { PingWatch } from './ping-watch.js';
import { ReadyWaiters } from './ready-waiters.js';
import type { RequestTable } from './requests.js';
import type { ServerSubs } from './server-subs.js';
import type { CodeContext } from './subscription.js';
import type { SubscriptionSync } from './subscription-sync.js';
import { type Timer, startTimer, stopTimer } from './timers.js';
import { TokenRefresh } from './token-refresh.js';
import { TransportPicker, openConnection } from './transports.js';
import { UpgradeWatch } from './upgrade-watch.js';

/** The Client events that come from the lifecycle. */
type LifecycleEvent = 'state' | 'connecting' | 'connected' | 'disconnected' | 'failed';

export interface LifecycleHost {
  emit<K extends LifecycleEvent>(event: K, payload: ClientEvents[K]): void;
  /** To the `error` event, or to the logger when nobody listens. */
  emitError(err: Error): void;
  /** A frame read on the current connection. */
  frame(frame: ServerFrame): void;
}

/** What starts and ends with each session: the connect command fills them in, losing the connection empties them. */
export interface SessionParts {
  requests: RequestTable;
  channels: SubscriptionSync;
  serverSubs: ServerSubs;
  queue: OfflineQueue;
}

export class Lifecycle {
  private _state: ClientState = 'disconnected';
  private conn: Connection | null = null;
  /** The current attempt got its connect reply. */
  private attemptConnected = false;
  /** Set from the connect reply until the transport goes: commands may be sent. */
  private _session: Session | null = null;
  /** Bumped whenever a transport is torn down or an attempt starts: async work from before is stale. */
  private gen = 0;
  private attempts = 0;
  private reconnectTimer: Timer | null = null;
  private handshakeTimer: Timer | null = null;
  private lastFailure: CodeContext = { code: ClientCode.Manual, reason: 'not connected' };
  private readonly picker: TransportPicker;
  private readonly upgrade: UpgradeWatch;
  private readonly refresher: TokenRefresh;
  private readonly ping: PingWatch;
  private readonly waiters = new ReadyWaiters();
  private readonly network = new NetworkWatch(() => this.onOnline(), () => this.onOffline());

  constructor(
    private readonly opts: Settings,
    private readonly parts: SessionParts,
    private readonly host: LifecycleHost,
  ) {
    this.picker = new TransportPicker(opts.transports, opts.fallbackAfter);
    this.upgrade = this.createUpgradeWatch();
    this.refresher = this.createTokenRefresh();
    this.ping = new PingWatch(opts.maxServerPingDelay, () => this.lose(ClientCode.NoPing, 'no ping', true));
  }

  get state(): ClientState {
    return this._state;
  }

  /** The current session, set before `connected` is emitted; null without one. */
  get session(): Session | null {
    return this._session;
  }

  /** Commands may be sent. */
  get hasSession(): boolean {
    return this._session !== null;
  }

  get transport(): TransportName | null {
    return this.conn?.kind ?? null;
  }

  // ------------------------------------------------------------ asked by the app

  connect(): void {
    if (this._state === 'connecting' || this._state === 'connected') return;
    this.attempts = 0;
    this.network.set(true);
    this.startAttempt();
    if (this.setState('connecting')) this.host.emit('connecting', { code: ClientCode.Manual, reason: 'connect called' });
  }

  disconnect(): void {
    if (this._state === 'disconnected') return;
    this.teardown();
    this.network.set(false);
    const err = new TidingsError(ClientErrorCode.ClientClosed, 'client disconnected');
    this.waiters.settle(err);
    this.parts.queue.drop(err);
    const ctx = { code: ClientCode.Manual, reason: 'disconnect called' };
    if (!this.setState('disconnected')) return;
    this.parts.channels.park(ctx.code, ctx.reason);
    if (this.is('disconnected')) this.host.emit('disconnected', { ...ctx, reconnect: false });
  }

  ready(timeout?: number): Promise<void> {
    if (this._state === 'connected') return Promise.resolve();
    if (this._state === 'disconnected') {
      return Promise.reject(new TidingsError(ClientErrorCode.ClientClosed, 'client is disconnected: call connect() first'));
    }
    if (this._state === 'failed') return Promise.reject(new TidingsError(this.lastFailure.code, this.lastFailure.reason));
    return this.waiters.wait(timeout);
  }

  // ------------------------------------------------------------ asked by the other parts

  /** Put a frame on the current connection, if there is one. */
  send(frame: ClientFrame): void {
    try {
      this.conn?.send(frame);
    } catch (err) {
      // The socket is closing; its close event rejects whatever is pending.
      this.host.emitError(toError(err));
    }
  }

  /** The server asked for a fresh token. */
  refreshToken(): void {
    this.refresher.refresh();
  }

  /** A command settled: the switch back to the WebSocket may be due now. */
  commandSettled(): void {
    this.upgrade.switchIfIdle();
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
    this.host.emitError(toError(err));
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
      conn = openConnection(this.picker.current, this.opts, events);
    } catch (err) {
      // A malformed URL will not get better by retrying.
      this.fail(ClientCode.TransportError, `cannot open ${this.picker.current}: ${toError(err).message}`);
      return this.host.emitError(toError(err));
    }
    this.conn = conn;
    this.parts.requests.restart();
    this.attemptConnected = false;
    this.handshakeTimer = startTimer(this.opts.timeout, () => this.lose(ClientCode.Timeout, 'connect timeout', true));
  }

  private onFrame(frame: ServerFrame): void {
    this.ping.frameArrived();
    this.host.frame(frame);
  }

  private onUnreadable(err: Error): void {
    this.ping.frameArrived();
    this.host.emitError(err);
  }

  /** The connect command carries every wanted subscription, with its position, so all recover in one round trip. */
  private sendConnect(conn: Connection, token: string | undefined): void {
    const { channels, serverSubs, requests } = this.parts;
    const subs = channels.connectParams();
    const params: ConnectParams = { name: this.opts.name, version: this.opts.version, protocol: PROTOCOL_VERSION, subs };
    if (token !== undefined) params.token = token;
    const data = this.opts.connectData?.();
    if (data !== undefined) params.data = data;
    const positions = serverSubs.connectParam();
    if (positions) params.serverSubs = positions;
    const id = requests.command('connect', params, (err, res) => this.onConnectReply(conn, id, err, res), null);
    channels.markInflight(subs, id);
  }

  private onConnectReply(conn: Connection, id: number, err: TidingsError | null, res: ConnectResult | undefined): void {
    if (this.conn !== conn) return;
    stopTimer(this.handshakeTimer);
    this.handshakeTimer = null;
    if (err || !res) return this.onConnectError(err ?? new TidingsError(ErrorCode.Internal, 'empty connect reply', true));
    this.startSession(res);
    if (!this.setState('connected')) return;
    this.host.emit('connected', { client: res.client, user: res.user, transport: conn.kind });
    // A listener may end the connection at any point below: stop delivering then.
    const current = (): boolean => this.conn === conn;
    if (!this.parts.channels.applyConnectReply(id, res.subs ?? [], current)) return;
    this.parts.serverSubs.apply(res.serverSubs ?? [], current);
    if (current()) this.parts.channels.syncAll();
  }

  /** Internal state of a fresh connection, before anyone is told. */
  private startSession(res: ConnectResult): void {
    this._session = { client: res.client, user: res.user, ping: res.ping, pong: res.pong };
    this.attempts = 0;
    this.attemptConnected = true;
    this.picker.connected();
    if (this.picker.onFallback) this.upgrade.start();
    this.ping.start(res.ping, res.pong);
    this.refresher.start(res.ttl);
    // Queued publishes go first, ahead of anything a `connected` listener sends.
    this.parts.queue.flush((channel, data, done) => this.parts.requests.command('publish', { channel, data }, done));
    this.waiters.settle();
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
  lose(code: number, reason: string, reconnect: boolean): void {
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
    this.parts.channels.park(code, reason);
    if (wasConnected && this.is('connecting')) this.host.emit('disconnected', { code, reason, reconnect: true });
    if (entering && this.is('connecting')) this.host.emit('connecting', { code, reason });
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
    this.waiters.settle(new TidingsError(code, reason));
    this.parts.queue.drop(new TidingsError(ClientErrorCode.ClientClosed, `client failed: ${reason}`));
    if (!this.setState('failed')) return;
    this.parts.channels.park(code, reason);
    if (wasConnected && this.is('failed')) this.host.emit('disconnected', { code, reason, reconnect: false });
    if (this.is('failed')) this.host.emit('failed', { code, reason });
  }

  /** Forget the transport and everything tied to it. Emits nothing. */
  private teardown(deadLink = false): void {
    this.gen++;
    stopTimer(this.reconnectTimer);
    stopTimer(this.handshakeTimer);
    this.reconnectTimer = this.handshakeTimer = null;
    this.ping.stop();
    this.refresher.stop();
    // Before failing the pending commands, so late subscribe callbacks see they are stale.
    this.parts.channels.reset();
    this._session = null;
    this.upgrade.stop();
    const conn = this.conn;
    this.conn = null;
    conn?.close(deadLink);
    this.parts.requests.failAll();
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

  // ------------------------------------------------------------ state

  /** State check that TypeScript does not narrow: listeners run inside emit() can change the state. */
  private is(state: ClientState): boolean {
    return this._state === state;
  }

  private setState(next: ClientState): boolean {
    const previous = this._state;
    if (previous === next) return true;
    this._state = next;
    this.host.emit('state', { state: next, previous });
    // False when a listener has already moved the client elsewhere.
    return this._state === next;
  }

  // ------------------------------------------------------------ parts (wiring)

  /** Once the WebSocket works again, switch back when connected and no command is in flight. */
  private createUpgradeWatch(): UpgradeWatch {
    const o = this.opts;
    return new UpgradeWatch(
      this.picker,
      { WebSocket: o.WebSocket, url: o.url, interval: o.upgradeInterval, timeout: o.timeout },
      {
        idle: () => this._session !== null && this.parts.requests.size === 0,
        switchBack: () => this.lose(ClientCode.TransportSwitch, 'switching back to websocket', true),
      },
    );
  }

  /** Refreshes are tied to `gen`: one begun on a connection that has since gone is dropped. */
  private createTokenRefresh(): TokenRefresh {
    return new TokenRefresh(this.opts.getToken, {
      generation: () => this.gen,
      connected: () => this._session !== null,
      sendRefresh: (token, done) => this.parts.requests.command('refresh', { token }, done),
      unauthorized: (err) => this.failUnauthorized(err),
      error: (err) => this.host.emitError(err),
    });
  }
}
