/**
 * The Client, the public face of one connection to a Tidings gateway: its
 * methods, getters and events. It puts the parts together and routes each
 * frame that arrives to the part that owns it: replies to the request table
 * (requests.ts), pushes to the channel subscriptions (subscription-sync.ts)
 * or the server-side ones (server-subs.ts), the rest to the connection
 * lifecycle (lifecycle.ts), which also holds the state. Options and their
 * defaults are in options.ts, event types in client-events.ts.
 */
import {
  type CommandMap,
  ErrorCode,
  type HistoryResult,
  type Method,
  type PresenceResult,
  type PubPush,
  type Publication,
  type Push,
  type Reply,
  type ResultMap,
  type RpcResult,
  type ServerFrame,
  type StreamPosition,
  shouldReconnect,
} from '@tidings/protocol';
import type { ClientEvents, ClientState, Session } from './client-events.js';
import type { TransportName } from './connection.js';
import { Emitter } from './emitter.js';
import { ClientErrorCode, TidingsError, toError } from './errors.js';
import { Lifecycle } from './lifecycle.js';
import { OfflineQueue } from './offline-queue.js';
import { type ClientOptions, type Settings, settings } from './options.js';
import { RequestTable } from './requests.js';
import { type RpcOptions, abortError, rpcParams } from './rpc.js';
import { ServerSubs } from './server-subs.js';
import {
  type HistoryOptions,
  type SignalOptions,
  type PresenceEvent,
  type Subscription,
  type SubscriptionHost,
  type SubscriptionOptions,
  publicationOf,
} from './subscription.js';
import { SubscriptionSync } from './subscription-sync.js';

const noop = (): void => {};

export class Client extends Emitter<ClientEvents> {
  private readonly opts: Settings;
  private readonly queue: OfflineQueue;
  private readonly requests: RequestTable;
  private readonly channels: SubscriptionSync;
  private readonly serverSubs: ServerSubs;
  private readonly link: Lifecycle;
  private readonly host: SubscriptionHost;

  constructor(options: ClientOptions) {
    super();
    this.opts = settings(options);
    this.queue = new OfflineQueue(this.opts.offlineQueueSize);
    this.requests = new RequestTable(this.opts.timeout, {
      send: (frame) => this.link.send(frame),
      settled: () => this.link.commandSettled(),
      listenerError: (err, event) => this.onListenerError(err, event),
    });
    this.channels = new SubscriptionSync(this.opts, {
      connected: () => this.link.hasSession,
      command: (method, params, cb) => this.requests.command(method, params, cb),
      reconnect: (code, reason) => this.link.lose(code, reason, true),
    });
    this.serverSubs = new ServerSubs({
      emit: (event, payload) => this.emit(event, payload),
      reconnect: (code, reason) => this.link.lose(code, reason, true),
    });
    this.link = new Lifecycle(
      this.opts,
      { requests: this.requests, channels: this.channels, serverSubs: this.serverSubs, queue: this.queue },
      {
        emit: (event, payload) => this.emit(event, payload),
        emitError: (err) => this.emitError(err),
        frame: (frame) => this.onFrame(frame),
      },
    );
    this.host = {
      subscribe: (sub) => this.channels.start(sub),
      unsubscribe: (sub) => this.channels.stop(sub),
      publish: (channel, data) => this.publish(channel, data),
      history: (channel, opts) => this.history(channel, opts),
      presence: (channel) => this.presence(channel),
      signal: (channel, data, opts) => this.signal(channel, data, opts),
      listenerError: (err, event) => this.onListenerError(err, event),
    };
  }

  get state(): ClientState {
    return this.link.state;
  }

  /** Client id and user of the current connection; null when not connected. */
  get session(): Session | null {
    const s = this.link.session;
    return s && this.link.state === 'connected' ? { ...s } : null;
  }

  /** The transport of the current connection or attempt: 'websocket', 'sse', or null when there is none. */
  get transport(): TransportName | null {
    return this.link.transport;
  }

  // ------------------------------------------------------------ lifecycle (public)

  /** Start connecting, and keep reconnecting until disconnect() or a terminal failure. Idempotent. */
  connect(): void {
    this.link.connect();
  }

  /** Close and stay closed. Subscriptions stay registered and resubscribe, recovering, on the next connect(). */
  disconnect(): void {
    this.link.disconnect();
  }

  /** Resolves when connected. Rejects when the client is (or becomes) disconnected or failed, or after `timeout` ms. */
  ready(timeout?: number): Promise<void> {
    return this.link.ready(timeout);
  }

  // ------------------------------------------------------------ subscriptions (public)

  /**
   * Subscribe to `channel`: now if connected, else with the next connect.
   * Throws if this client already has an active subscription to it.
   */
  subscribe<T = unknown>(channel: string, opts: SubscriptionOptions<T> = {}): Subscription<T> {
    return this.channels.create(channel, opts, this.host);
  }

  getSubscription<T = unknown>(channel: string): Subscription<T> | undefined {
    return this.channels.get(channel) as Subscription<T> | undefined;
  }

  /** Unsubscribe and forget the subscription, freeing its channel name on this client. */
  removeSubscription(sub: Subscription<any>): void {
    this.channels.remove(sub);
  }

  // ------------------------------------------------------------ commands (public)

  /** Publish; while not connected the publish waits in the offline queue (rejects at once when it is full). */
  publish(channel: string, data: unknown): Promise<StreamPosition> {
    if (this.link.hasSession) return this.request('publish', { channel, data });
    return this.queue.add(channel, data);
  }

  presence(channel: string): Promise<PresenceResult> {
    return this.request('presence', { channel });
  }

  /**
   * Send an ephemeral signal on a channel this client is subscribed to: the
   * other subscribers get it at once, nothing is stored. Not queued while
   * offline: a late typing indicator is worse than none.
   */
  signal(channel: string, data: unknown, opts: SignalOptions = {}): Promise<void> {
    const params: CommandMap['signal'] = { channel, data };
    if (opts.key !== undefined) params.key = opts.key;
    if (opts.ttl !== undefined) params.ttl = opts.ttl;
    return this.request('signal', params).then(() => undefined);
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
    if (!this.link.hasSession) return Promise.reject(new TidingsError(ErrorCode.NotConnected, 'not connected'));
    const timeout = opts.timeout ?? this.opts.timeout;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        if (!this.requests.drop(id)) return;
        this.sendCancel(id);
        reject(abortError(signal!));
      };
      const id = this.requests.command(
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
    if (this.link.hasSession) this.requests.command('cancel', { id }, noop, null);
  }

  private request<M extends Method>(method: M, params: CommandMap[M]): Promise<ResultMap[M]> {
    if (!this.link.hasSession) return Promise.reject(new TidingsError(ErrorCode.NotConnected, 'not connected'));
    return new Promise((resolve, reject) => {
      this.requests.command(method, params, (err, res) => (err ? reject(err) : resolve(res as ResultMap[M])));
    });
  }

  // ------------------------------------------------------------ frames

  /** Every frame of the current connection: replies by id, pushes by type. */
  private onFrame(frame: ServerFrame): void {
    if (typeof (frame as Reply).id === 'number') this.requests.onReply(frame as Reply);
    else this.onPush(frame as Push);
  }

  private onPush(push: Push): void {
    switch (push.type) {
      case 'pub':
        return this.onPublication(push);
      case 'join':
      case 'leave':
        return this.onPresence(push.type, push.channel, push.info);
      case 'signal':
        this.channels.onSignal(push);
        return;
      case 'unsub':
        if (!this.channels.onUnsub(push)) this.serverSubs.onUnsub(push);
        return;
      case 'disconnect':
        return this.link.lose(push.code, push.reason, push.reconnect ?? shouldReconnect(push.code));
      case 'ping':
        return this.link.send({ method: 'pong' });
      case 'refresh':
        return this.link.refreshToken();
      case 'error':
        return this.emitError(TidingsError.from(push.error));
    }
  }

  /** A channel this client subscribed to, else a server-side one. */
  private onPublication(pub: PubPush): void {
    if (!this.channels.onPublication(pub) && this.link.hasSession) this.serverSubs.onPublication(pub);
  }

  private onPresence(type: 'join' | 'leave', channel: string, info: PresenceEvent['info']): void {
    if (!this.channels.onPresence(type, channel, info)) this.serverSubs.onPresence(type, channel, info);
  }

  // ------------------------------------------------------------ events

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
