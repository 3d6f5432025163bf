/**
 * One channel subscription: its state, its stream position and the delivery
 * guarantee. Publications reach the application in offset order, each once;
 * a hole in the stream is never papered over: the client resubscribes from
 * the last position and the server either fills the hole (`recovered`) or
 * says it cannot (`recovered: false`, the app should reload its state).
 *
 * The Client owns the wire: it calls the `_`-prefixed methods below when
 * replies and pushes arrive. Applications use the rest.
 */
import type {
  ClientInfo,
  HistoryResult,
  PresenceEntry,
  PresenceResult,
  PubPush,
  Publication,
  StreamPosition,
  SubscribeParams,
  SignalPush,
  SubscribeResult,
} from '@tidings/protocol';
import { applyDelta, canonicalJson } from '@tidings/protocol';
import { Emitter } from './emitter.js';
import { ClientCode, ClientErrorCode, TidingsError, toError } from './errors.js';
import { type Timer, startTimer, stopTimer } from './timers.js';

export type SubscriptionState = 'unsubscribed' | 'subscribing' | 'subscribed';

export interface StateContext<S> {
  state: S;
  previous: S;
}

/** Why a subscription or connection changed state: a close code, a server code or a ClientCode. */
export interface CodeContext {
  code: number;
  reason: string;
}

export interface SubscribedContext {
  channel: string;
  /** `since` was sent (the client had a position). */
  wasRecovering: boolean;
  /** Every publication after that position was delivered; false after wasRecovering means: reload your state. */
  recovered: boolean;
  /** The channel keeps history, so a later resubscribe can recover. */
  recoverable: boolean;
  /** Stream position right after the subscribe (after any recovered publications). */
  epoch: string;
  offset: number;
}

export interface PresenceEvent {
  channel: string;
  info: PresenceEntry;
}

/**
 * An ephemeral signal from another connection on the channel (typing, "is
 * looking at this"): never stored, not recovered. `cleared: true` ends the
 * sender's keyed signal: it sent null, its ttl passed, or it left.
 */
export interface Signal<T = unknown> {
  channel: string;
  /** null when cleared. */
  data: T | null;
  /** The sender; absent for signals from the HTTP API. */
  info?: ClientInfo;
  key?: string;
  /** Milliseconds until the server clears this keyed signal. */
  ttl?: number;
  cleared?: boolean;
}

export interface SignalOptions {
  /** Names a state this connection holds (e.g. "typing"): the server clears it after `ttl`, or when this connection leaves. */
  key?: string;
  /** Milliseconds a keyed signal lasts unless sent again (the server caps it). */
  ttl?: number;
}

export interface HistoryOptions {
  limit?: number;
  since?: StreamPosition;
}

export interface SubscriptionEvents<T> {
  state: StateContext<SubscriptionState>;
  subscribing: CodeContext;
  subscribed: SubscribedContext;
  unsubscribed: CodeContext;
  publication: Publication<T>;
  join: PresenceEvent;
  leave: PresenceEvent;
  signal: Signal<T>;
  error: Error;
}

export interface SubscriptionOptions<T> {
  /** Start from a known position: the first subscribe recovers everything after it. */
  since?: StreamPosition;
  /**
   * At most one publication every this many ms, the latest (a conflatable
   * namespace only, and at least its `conflate`). Offsets then jump: that is
   * expected, not a loss (docs/protocol.md, "Conflation").
   */
  conflate?: number;
  /** Receive publications as deltas against the previous one: fewer bytes, the same publications (docs/protocol.md). */
  delta?: boolean;
  /** What the app's subscribe hook sees as `data` (docs/backends.md), sent with every subscribe of this subscription. */
  data?: unknown;
  onPublication?: (pub: Publication<T>) => void;
  onSubscribing?: (ctx: CodeContext) => void;
  onSubscribed?: (ctx: SubscribedContext) => void;
  onUnsubscribed?: (ctx: CodeContext) => void;
  onError?: (err: Error) => void;
  onJoin?: (ev: PresenceEvent) => void;
  onLeave?: (ev: PresenceEvent) => void;
  onSignal?: (signal: Signal<T>) => void;
}

/** What a Subscription needs from its client. */
export interface SubscriptionHost {
  subscribe(sub: Subscription<unknown>): void;
  unsubscribe(sub: Subscription<unknown>): void;
  publish(channel: string, data: unknown): Promise<StreamPosition>;
  history(channel: string, opts?: HistoryOptions): Promise<HistoryResult>;
  presence(channel: string): Promise<PresenceResult>;
  signal(channel: string, data: unknown, opts?: SignalOptions): Promise<void>;
  listenerError(err: unknown, event: string): void;
}

/** How a publication relates to the last position delivered. */
export type Verdict = 'deliver' | 'duplicate' | 'gap';

/**
 * The delivery rule. Offset 0 marks a channel without history (no stream
 * position to check); anything else must be exactly last+1 in the same epoch,
 * or, on a conflated subscription (`jumps`), any later offset in it.
 */
export function classify(last: StreamPosition | undefined, pub: StreamPosition, jumps = false): Verdict {
  if (!last || !(pub.offset > 0)) return 'deliver';
  if (pub.epoch !== last.epoch) return 'gap';
  if (pub.offset <= last.offset) return 'duplicate';
  return pub.offset === last.offset + 1 || jumps ? 'deliver' : 'gap';
}

/** A wire publication (push or history entry) as handed to applications, without the frame's `type`. */
export function publicationOf<T>(p: Publication): Publication<T> {
  const pub: Publication<T> = { channel: p.channel, offset: p.offset, epoch: p.epoch, data: p.data as T, time: p.time };
  if (p.info !== undefined) pub.info = p.info;
  return pub;
}

export function subscribedContext(r: SubscribeResult): SubscribedContext {
  return {
    channel: r.channel,
    wasRecovering: r.wasRecovering,
    recovered: r.recovered,
    recoverable: r.recoverable,
    epoch: r.epoch,
    offset: r.offset,
  };
}

export class Subscription<T = unknown> extends Emitter<SubscriptionEvents<T>> {
  private _state: SubscriptionState = 'unsubscribed';
  private _position: StreamPosition | undefined;
  /** What every subscribe of this subscription carries besides the channel and position. */
  private readonly extras: Pick<SubscribeParams, 'conflate' | 'delta' | 'data'> = {};
  /** The server may conflate this subscription: offsets jump. */
  private conflated = false;
  /** Canonical JSON of the last publication's data, which the next delta applies to (delta subscriptions). */
  private base: string | undefined;

  /** Use client.subscribe(); subscriptions only exist attached to a client. */
  constructor(
    readonly channel: string,
    private readonly host: SubscriptionHost,
    opts: SubscriptionOptions<T> = {},
  ) {
    super();
    if (opts.since) this._position = { offset: opts.since.offset, epoch: opts.since.epoch };
    if (opts.conflate) this.extras.conflate = opts.conflate;
    if (opts.delta) this.extras.delta = true;
    if (opts.data !== undefined) this.extras.data = opts.data;
    if (opts.onPublication) this.on('publication', opts.onPublication);
    if (opts.onSubscribing) this.on('subscribing', opts.onSubscribing);
    if (opts.onSubscribed) this.on('subscribed', opts.onSubscribed);
    if (opts.onUnsubscribed) this.on('unsubscribed', opts.onUnsubscribed);
    if (opts.onError) this.on('error', opts.onError);
    if (opts.onJoin) this.on('join', opts.onJoin);
    if (opts.onLeave) this.on('leave', opts.onLeave);
    if (opts.onSignal) this.on('signal', opts.onSignal);
  }

  get state(): SubscriptionState {
    return this._state;
  }

  /** The last stream position delivered (or given as `since`); undefined before the first subscribe. */
  get position(): StreamPosition | undefined {
    return this._position ? { ...this._position } : undefined;
  }

  /** Subscribe again after unsubscribe(), recovering from the last position. */
  subscribe(): void {
    this.host.subscribe(this as Subscription<unknown>);
  }

  unsubscribe(): void {
    this.host.unsubscribe(this as Subscription<unknown>);
  }

  publish(data: T): Promise<StreamPosition> {
    return this.host.publish(this.channel, data);
  }

  history(opts?: HistoryOptions): Promise<HistoryResult> {
    return this.host.history(this.channel, opts);
  }

  presence(): Promise<PresenceResult> {
    return this.host.presence(this.channel);
  }

  /** Send an ephemeral signal to the channel's other subscribers (the namespace needs `signals: true`). */
  signal(data: T | null, opts?: SignalOptions): Promise<void> {
    return this.host.signal(this.channel, data, opts);
  }

  /** Resolves once subscribed; rejects if the subscription ends up unsubscribed, or after `timeout` ms. */
  ready(timeout?: number): Promise<void> {
    if (this._state === 'subscribed') return Promise.resolve();
    if (this._state === 'unsubscribed') {
      return Promise.reject(new TidingsError(ClientErrorCode.Unsubscribed, `not subscribed to ${this.channel}`));
    }
    return new Promise((resolve, reject) => {
      let timer: Timer | undefined;
      const settle = (err?: TidingsError): void => {
        stopTimer(timer);
        offSubscribed();
        offUnsubscribed();
        if (err) reject(err);
        else resolve();
      };
      const offSubscribed = this.on('subscribed', () => settle());
      const offUnsubscribed = this.on('unsubscribed', ({ code, reason }) =>
        settle(new TidingsError(code === ClientCode.Manual ? ClientErrorCode.Unsubscribed : code, reason)),
      );
      if (timeout !== undefined) {
        timer = startTimer(timeout, () => settle(new TidingsError(ClientErrorCode.Timeout, `subscribe to ${this.channel} timed out`, true)));
      }
    });
  }

  // ------------------------------------------------------------ used by the client

  /** @internal The subscribe params: with `since` whenever a position is known, so the server recovers. */
  _subscribeParams(): SubscribeParams {
    const p: SubscribeParams = { channel: this.channel, ...this.extras };
    if (this._position) p.since = { ...this._position };
    return p;
  }

  /** @internal */
  _setSubscribing(code: number, reason: string): void {
    if (this._state === 'subscribing') return;
    if (this.setState('subscribing')) this.emit('subscribing', { code, reason });
  }

  /** @internal */
  _setUnsubscribed(code: number, reason: string): void {
    if (this._state === 'unsubscribed') return;
    if (this.setState('unsubscribed')) this.emit('unsubscribed', { code, reason });
  }

  /** @internal */
  _error(err: Error): void {
    this.emit('error', err);
  }

  /**
   * @internal A subscribe result: tell the app, then hand over the recovered
   * publications (minus any it already has) before anything live.
   */
  _applySubscribed(r: SubscribeResult): void {
    const last = this._position;
    const missed = (r.publications ?? []).filter((p) => classify(last, p) !== 'duplicate');
    const end = { offset: r.offset, epoch: r.epoch };
    if (missed.length === 0) this._position = end;
    this.conflated = (r.conflate ?? 0) > 0;
    this.base = undefined;
    if (!this.setState('subscribed')) return;
    this.emit('subscribed', subscribedContext(r));
    for (const p of missed) {
      // A listener may have unsubscribed; the rest is recovered on the next subscribe.
      if (this._state !== 'subscribed') return;
      this.deliver(p);
    }
    if (this._state === 'subscribed') this._position = end;
  }

  /** @internal A live publication. 'gap' asks the client to resubscribe; nothing is delivered then. */
  _applyPublication(push: PubPush): Verdict | 'ignored' {
    // While (re)subscribing, anything that arrives is from the old subscription: the reply covers it.
    if (this._state !== 'subscribed') return 'ignored';
    const pub = this.withData(push);
    // A delta that does not apply means the stream is out of step: resubscribe, which starts in full.
    if (!pub) return 'gap';
    const verdict = classify(this._position, pub, this.conflated);
    if (verdict === 'deliver') this.deliver(pub);
    return verdict;
  }

  /** The publication with its data: rebuilt from a delta, and kept as the next delta's base. */
  private withData(push: PubPush): Publication | undefined {
    if (push.delta === undefined) {
      if (this.extras.delta) this.base = canonicalJson(push.data);
      return push;
    }
    if (this.base === undefined) return undefined;
    try {
      const text = applyDelta(this.base, push.delta);
      const data: unknown = JSON.parse(text);
      this.base = text;
      return { ...push, data };
    } catch {
      this.base = undefined;
      return undefined;
    }
  }

  /** @internal */
  _applyPresence(type: 'join' | 'leave', info: PresenceEntry): void {
    if (this._state === 'subscribed') this.emit(type, { channel: this.channel, info });
  }

  /** @internal */
  _applySignal(push: SignalPush): void {
    if (this._state !== 'subscribed') return;
    const sig: Signal<T> = { channel: push.channel, data: push.data as T | null };
    if (push.info !== undefined) sig.info = push.info;
    if (push.key !== undefined) sig.key = push.key;
    if (push.ttl !== undefined) sig.ttl = push.ttl;
    if (push.cleared) sig.cleared = true;
    this.emit('signal', sig);
  }

  protected override onListenerError(err: unknown, event: string): void {
    if (event !== 'error' && this.listenerCount('error') > 0) this.emit('error', toError(err));
    else this.host.listenerError(err, `${this.channel}: ${event}`);
  }

  private deliver(p: Publication): void {
    if (p.offset > 0) this._position = { offset: p.offset, epoch: p.epoch };
    this.emit('publication', publicationOf<T>(p));
  }

  private setState(next: SubscriptionState): boolean {
    const previous = this._state;
    if (previous === next) return true;
    this._state = next;
    this.emit('state', { state: next, previous });
    // A listener may already have moved it on.
    return this._state === next;
  }
}
