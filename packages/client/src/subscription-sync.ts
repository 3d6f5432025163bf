/**
 * Client-side subscriptions on the wire: the Subscription of each channel,
 * the one subscribe command in flight for it, and the retries with backoff of
 * those the server refused for now. It keeps what the server holds in step
 * with what the application wants: on connect (the connect command carries
 * them), when the app subscribes or unsubscribes, after a gap in a stream, and
 * when the server ends a subscription. Pushes for channels it does not hold
 * are left to the caller (server-side subscriptions).
 */
import {
  CHANNEL_RULE,
  CloseCode,
  type CommandMap,
  ErrorCode,
  type PubPush,
  type ResultMap,
  type SubscribeFailure,
  type SubscribeParams,
  type SubscribeResult,
  type SignalPush,
  type UnsubPush,
  backoffDelay,
  isValidChannel,
} from '@tidings/protocol';
import { ClientCode, ClientErrorCode, TidingsError } from './errors.js';
import type { ReplyCallback } from './requests.js';
import { type PresenceEvent, Subscription, type SubscriptionHost, type SubscriptionOptions } from './subscription.js';
import { type Timer, startTimer, stopTimer } from './timers.js';

export interface SubscriptionSyncHost {
  /** True while commands may be sent (there is a session). */
  connected(): boolean;
  /** Send a subscribe or unsubscribe with the default timeout; returns its id (see RequestTable.command). */
  command<M extends 'subscribe' | 'unsubscribe'>(method: M, params: CommandMap[M], cb: ReplyCallback<ResultMap[M]>): number;
  /** Drop the connection and reconnect: what the server holds is no longer known. */
  reconnect(code: number, reason: string): void;
}

/** Retry delays for a subscribe refused temporarily, ms (the reconnect backoff bounds). */
export interface RetryDelays {
  minReconnectDelay: number;
  maxReconnectDelay: number;
}

const noop = (): void => {};

export class SubscriptionSync {
  private readonly subs = new Map<string, Subscription<unknown>>();
  /** Channel → id of the subscribe (or connect) command in flight for it. At most one per channel. */
  private readonly inflight = new Map<string, number>();
  /** Channels whose subscribe failed temporarily, waiting to retry, and their attempt counts. */
  private readonly subRetry = new Map<string, Timer>();
  private readonly subAttempts = new Map<string, number>();

  constructor(
    private readonly delays: RetryDelays,
    private readonly host: SubscriptionSyncHost,
  ) {}

  get(channel: string): Subscription<unknown> | undefined {
    return this.subs.get(channel);
  }

  /** client.subscribe(): throws on an invalid channel or one that already has an active subscription. */
  create<T>(channel: string, opts: SubscriptionOptions<T>, subHost: SubscriptionHost): Subscription<T> {
    if (!isValidChannel(channel)) throw new TidingsError(ErrorCode.UnknownChannel, `invalid channel name ${JSON.stringify(channel)}: use ${CHANNEL_RULE}`);
    const existing = this.subs.get(channel);
    if (existing && existing.state !== 'unsubscribed') {
      throw new TidingsError(ErrorCode.AlreadySubscribed, `already subscribed to ${channel}`);
    }
    const sub = new Subscription<T>(channel, subHost, opts);
    this.subs.set(channel, sub as Subscription<unknown>);
    sub.subscribe();
    return sub;
  }

  /** Unsubscribe and forget the subscription, freeing its channel name. */
  remove(sub: Subscription<unknown>): void {
    sub.unsubscribe();
    if (this.subs.get(sub.channel) === sub) this.subs.delete(sub.channel);
  }

  /** sub.subscribe(): take the channel again (it may have been removed meanwhile) and sync it. */
  start(sub: Subscription<unknown>): void {
    const current = this.subs.get(sub.channel);
    if (current !== sub) {
      if (current && current.state !== 'unsubscribed') {
        throw new TidingsError(ErrorCode.AlreadySubscribed, `already subscribed to ${sub.channel}`);
      }
      this.subs.set(sub.channel, sub);
    }
    if (sub.state !== 'unsubscribed') return;
    sub._setSubscribing(ClientCode.Manual, 'subscribe called');
    this.sync(sub);
  }

  stop(sub: Subscription<unknown>): void {
    if (sub.state === 'unsubscribed') return;
    this.clearSubRetry(sub.channel);
    // With a subscribe in flight, its reply triggers the unsubscribe (see onSubscribeReply).
    if (sub.state === 'subscribed' && this.host.connected()) this.sendUnsubscribe(sub.channel);
    sub._setUnsubscribed(ClientCode.Manual, 'unsubscribe called');
  }

  syncAll(): void {
    for (const sub of [...this.subs.values()]) this.sync(sub);
  }

  // ------------------------------------------------------------ connect

  /** The subscriptions for the connect command, each with its position; pending retries give way to it. */
  connectParams(): SubscribeParams[] {
    const subs: SubscribeParams[] = [];
    for (const sub of this.subs.values()) {
      if (sub.state !== 'subscribing') continue;
      this.clearSubRetry(sub.channel);
      subs.push(sub._subscribeParams());
    }
    return subs;
  }

  /** The connect command `id` carries these subscribes. */
  markInflight(subs: SubscribeParams[], id: number): void {
    for (const s of subs) this.inflight.set(s.channel, id);
  }

  /**
   * The subscribe results of connect reply `id`. False when `current` turned
   * false (a listener ended the connection): stop there.
   */
  applyConnectReply(id: number, results: Array<SubscribeResult | SubscribeFailure>, current: () => boolean): boolean {
    for (const r of results) {
      if (!current()) return false;
      const failed = 'error' in r ? TidingsError.from(r.error) : null;
      this.onSubscribeReply(r.channel, id, failed, failed ? undefined : (r as SubscribeResult));
    }
    // Channels the reply said nothing about get a subscribe of their own from syncAll().
    for (const [channel, cid] of this.inflight) if (cid === id) this.inflight.delete(channel);
    return true;
  }

  // ------------------------------------------------------------ pushes (false: not a channel held here)

  onPublication(pub: PubPush): boolean {
    const sub = this.subs.get(pub.channel);
    if (!sub) return false;
    if (sub._applyPublication(pub) === 'gap') this.recoverGap(sub);
    return true;
  }

  onPresence(type: 'join' | 'leave', channel: string, info: PresenceEvent['info']): boolean {
    const sub = this.subs.get(channel);
    if (!sub) return false;
    sub._applyPresence(type, info);
    return true;
  }

  onSignal(push: SignalPush): boolean {
    const sub = this.subs.get(push.channel);
    if (!sub) return false;
    sub._applySignal(push);
    return true;
  }

  onUnsub(push: UnsubPush): boolean {
    const sub = this.subs.get(push.channel);
    if (!sub) return false;
    // Not subscribed: the push is about an older subscription and a subscribe is already on its way.
    if (sub.state !== 'subscribed') return true;
    if (!push.resubscribe) {
      sub._setUnsubscribed(push.code, push.reason);
      return true;
    }
    this.sendSubscribe(sub);
    sub._setSubscribing(push.code, push.reason);
    return true;
  }

  // ------------------------------------------------------------ connection gone

  /** Subscribed channels wait for the next connection, which recovers them. */
  park(code: number, reason: string): void {
    for (const sub of [...this.subs.values()]) if (sub.state === 'subscribed') sub._setSubscribing(code, reason);
  }

  /** Forget retries and commands in flight; must run before the pending commands fail, so their callbacks see they are stale. */
  reset(): void {
    for (const t of this.subRetry.values()) stopTimer(t);
    this.subRetry.clear();
    this.subAttempts.clear();
    this.inflight.clear();
  }

  // ------------------------------------------------------------ wire

  /** Send a subscribe if the subscription wants one and nothing is already on its way. */
  private sync(sub: Subscription<unknown>): void {
    if (sub.state !== 'subscribing' || !this.host.connected() || this.subs.get(sub.channel) !== sub) return;
    if (this.inflight.has(sub.channel) || this.subRetry.has(sub.channel)) return;
    this.sendSubscribe(sub);
  }

  private sendSubscribe(sub: Subscription<unknown>): void {
    if (!this.host.connected()) return;
    const { channel } = sub;
    const id = this.host.command('subscribe', sub._subscribeParams(), (err, res) => this.onSubscribeReply(channel, id, err, res));
    this.inflight.set(channel, id);
  }

  private sendUnsubscribe(channel: string): void {
    if (this.host.connected()) this.host.command('unsubscribe', { channel }, noop);
  }

  /** A gap in the stream: drop the subscription and take it again from the last position delivered. */
  private recoverGap(sub: Subscription<unknown>): void {
    if (!this.host.connected()) return;
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
    if (err.code === ClientErrorCode.Timeout) return this.host.reconnect(ClientCode.Timeout, 'subscribe timeout');
    if (err.temporary) {
      const { channel } = sub;
      const attempt = (this.subAttempts.get(channel) ?? 0) + 1;
      this.subAttempts.set(channel, attempt);
      const delay = backoffDelay(attempt, this.delays.minReconnectDelay, this.delays.maxReconnectDelay);
      this.subRetry.set(
        channel,
        startTimer(delay, () => {
          this.subRetry.delete(channel);
          const current = this.subs.get(channel);
          if (current) this.sync(current);
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
}
