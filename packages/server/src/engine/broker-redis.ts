/**
 * The Redis broker: streams in Redis streams, fan-out between nodes through
 * pub/sub (sharded on Redis ≥ 7), with the layout and scripts of
 * @tidings/streams. Contract: broker.ts.
 *
 * Commands fail fast while Redis is away (no offline queue), so an API
 * publish answers 503 instead of hanging or lying. Pub/sub is at most once:
 * when the link resubscribes a channel (connection back, failover, slot
 * moved), the channel is resynced (subscribers recover from their own offsets).
 *
 * Rollback: a failover may promote a replica that had not received the last
 * publications. For each channel held here the broker remembers the last
 * publication it saw; before a resync, and when the stream is seen going
 * backwards live, it checks the stream still has that publication, and a
 * stream that lost it starts a new epoch (VERIFY_SCRIPT), so subscribers learn
 * `recovered: false` instead of receiving a second publication under an
 * offset they already hold. Publishes carry a fence: the highest position
 * this node knows the stream reached, from pub/sub or from its own
 * acknowledgements (a replica promoted one publication behind is caught too).
 * The fence outlives a channel's unsubscribe for a while (bounded), so
 * subscribers leaving and coming back across a failover do not wipe it.
 */
import type { PresenceEntry, StreamPosition } from '@tidings/protocol';
import { HISTORY_SCRIPT, type RawPublish, ReplicaWaitError, type ScriptClient, VERIFY_SCRIPT, channelKeys, decodePayload, newEpoch, runPublish } from '@tidings/streams';
import type { Logger } from 'pino';
import type { Broker, BrokerHandler, HistoryQuery, HistoryResult, PublishOptions, ServerPublication } from './broker.js';
import { EngineUnavailable } from './engine.js';
import type { PubSubLink } from './redis-pubsub.js';
import { PublishWindow } from './redis-publish-window.js';

export interface RedisBrokerOptions {
  prefix: string;
  idempotencyWindowMs: number;
  /** A stream's epoch survives this long without publications. */
  streamMetaTtlMs: number;
  /** Acknowledge a publish once this many replicas have it (0: on the primary). */
  waitReplicas?: number;
  waitTimeoutMs?: number;
  log?: Logger | undefined;
}

type HistoryClient = ScriptClient & {
  tidingsHistory(...args: Array<string | number>): Promise<Array<string | number>>;
  tidingsVerify(...args: Array<string | number>): Promise<string>;
};

/** A position the stream is known to have reached. */
interface Fence {
  epoch: string;
  offset: number;
}

/** A channel this node receives, and the last publication it saw there. */
interface Held {
  channel: string;
  epoch: string;
  offset: number;
  time: number;
  /**
   * The highest position known, from pub/sub and this node's own acks. Apart
   * from epoch/offset/time, which track() needs to tell news from repeats.
   */
  fence: Fence;
  /** A rollback check is running: later stale messages need no other. */
  checking?: boolean;
}

/** Fences of channels no longer held, kept for a resubscribe (oldest dropped beyond this). */
const RECENT_FENCES = 4096;
/** A rollback check that could not reach Redis is tried again this many times before subscribers resync anyway. */
const VERIFY_ATTEMPTS = 20;
const VERIFY_RETRY_MS = 250;

const JOIN = 'J\n';
const LEAVE = 'L\n';
/** "S\n<client>\n<frame JSON>" */
const SIGNAL = 'S\n';
const MAX_READ = 100_000;

export class RedisBroker implements Broker {
  private handler?: BrokerHandler;
  private readonly cmd: HistoryClient;
  /** Channels this node receives, by their pub/sub key (bounded by the hub's channels). */
  private readonly held = new Map<string, Held>();
  /** Fences of channels unsubscribed lately, by pub/sub key, oldest first (bounded by RECENT_FENCES). */
  private readonly recent = new Map<string, Held>();
  /** Publishes coalesce into batch script calls while one is in flight. */
  private readonly window: PublishWindow;
  /** `cmd` runs commands (scripts defined on it); `link` is this broker's own pub/sub. */
  constructor(
    cmd: ScriptClient,
    private readonly link: PubSubLink,
    private readonly opts: RedisBrokerOptions,
  ) {
    this.cmd = cmd as HistoryClient;
    this.window = new PublishWindow(cmd, cmd.isCluster);
    if (typeof this.cmd.tidingsHistory !== 'function') this.cmd.defineCommand('tidingsHistory', { numberOfKeys: 2, lua: HISTORY_SCRIPT });
    if (typeof this.cmd.tidingsVerify !== 'function') this.cmd.defineCommand('tidingsVerify', { numberOfKeys: 2, lua: VERIFY_SCRIPT });
  }

  /** Call once the command client and the link are up. */
  start(handler: BrokerHandler): void {
    this.handler = handler;
    this.link.onMessage((key, msg) => this.onMessage(key, msg));
    this.link.onResubscribed((keys) => void this.resync(keys));
  }

  stop(): void {
    this.handler = undefined;
  }

  async subscribe(channel: string): Promise<void> {
    const key = channelKeys(this.opts.prefix, channel).pubsub;
    this.held.set(key, this.heldAgain(key) ?? { channel, epoch: '', offset: 0, time: 0, fence: { epoch: '', offset: 0 } });
    try {
      await this.link.subscribe(key);
    } catch (err) {
      this.held.delete(key);
      throw new EngineUnavailable(`cannot subscribe in Redis: ${(err as Error).message}`);
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    const key = channelKeys(this.opts.prefix, channel).pubsub;
    const held = this.held.get(key);
    this.held.delete(key);
    if (held && held.fence.offset > 0) this.remember(key, held);
    await this.link.unsubscribe(key).catch(() => {});
  }

  /** Keep a released channel's positions, so a subscribe soon after starts from them. */
  private remember(key: string, held: Held): void {
    this.recent.delete(key);
    this.recent.set(key, { channel: held.channel, epoch: held.epoch, offset: held.offset, time: held.time, fence: held.fence });
    if (this.recent.size > RECENT_FENCES) this.recent.delete(this.recent.keys().next().value!);
  }

  private heldAgain(key: string): Held | undefined {
    const held = this.recent.get(key);
    this.recent.delete(key);
    return held;
  }

  async publish(channel: string, data: string, opts: PublishOptions): Promise<StreamPosition> {
    const key = channelKeys(this.opts.prefix, channel).pubsub;
    const fence = (this.held.get(key) ?? this.recent.get(key))?.fence;
    const waitReplicas = this.opts.waitReplicas ?? 0;
    try {
      const raw: RawPublish = {
        prefix: this.opts.prefix,
        channel,
        data,
        ...(opts.info ? { info: JSON.stringify(opts.info) } : {}),
        history: { size: opts.history.size, ttlSeconds: opts.history.ttlMs / 1000 },
        metaTtlSeconds: Math.ceil(this.opts.streamMetaTtlMs / 1000),
        ...(opts.idempotencyKey !== undefined ? { idempotencyKey: opts.idempotencyKey } : {}),
        idempotencyTtlSeconds: Math.ceil(this.opts.idempotencyWindowMs / 1000),
        sharded: this.link.sharded,
        ...(fence && fence.offset > 0 ? { fence } : {}),
        ...(waitReplicas > 0 ? { wait: { replicas: waitReplicas, timeoutMs: this.opts.waitTimeoutMs ?? 1000 } } : {}),
      };
      // A publish that waits for replicas keeps its own pipeline (script, then WAIT).
      const position = raw.wait ? await runPublish(this.cmd, raw) : await this.window.publish(raw, key);
      // Raised for a channel released lately too: its fence is what a resubscribe starts from.
      const known = this.held.get(key) ?? this.recent.get(key);
      if (known) raise(known.fence, position);
      return position;
    } catch (err) {
      if (err instanceof ReplicaWaitError) {
        throw new EngineUnavailable(`publish not confirmed by ${err.wanted} replica(s) in time (${err.confirmed} had it); it may still be delivered`);
      }
      throw new EngineUnavailable(`publish failed: ${(err as Error).message}`);
    }
  }

  async history(channel: string, query: HistoryQuery): Promise<HistoryResult> {
    const keys = channelKeys(this.opts.prefix, channel);
    const create = query.policy !== undefined && query.policy.size > 0;
    let raw: Array<string | number>;
    try {
      raw = await this.cmd.tidingsHistory(
        keys.stream,
        keys.meta,
        query.sinceOffset ?? 0,
        Math.min(query.limit ?? MAX_READ, MAX_READ),
        create ? '1' : '0',
        newEpoch(),
        Math.ceil(this.opts.streamMetaTtlMs / 1000),
      );
    } catch (err) {
      throw new EngineUnavailable(`history failed: ${(err as Error).message}`);
    }
    const position = { epoch: String(raw[0]), offset: Number(raw[1]) };
    const cutoff = query.policy ? Date.now() - query.policy.ttlMs : 0;
    const publications: ServerPublication[] = [];
    for (let i = 2; i < raw.length; i++) {
      const pub = toPublication(channel, String(raw[i]));
      if (pub && pub.time >= cutoff) publications.push(pub);
    }
    return { publications, position };
  }

  async publishJoin(channel: string, info: PresenceEntry): Promise<void> {
    await this.publishRaw(channel, JOIN + JSON.stringify(info));
  }

  async publishLeave(channel: string, info: PresenceEntry): Promise<void> {
    await this.publishRaw(channel, LEAVE + JSON.stringify(info));
  }

  async publishSignal(channel: string, from: string, frameJson: string): Promise<void> {
    const key = channelKeys(this.opts.prefix, channel).pubsub;
    const msg = `${SIGNAL}${from}\n${frameJson}`;
    try {
      await this.link.publish(key, msg);
    } catch (err) {
      throw new EngineUnavailable(`signal failed: ${(err as Error).message}`);
    }
  }

  private async publishRaw(channel: string, msg: string): Promise<void> {
    const key = channelKeys(this.opts.prefix, channel).pubsub;
    await this.link.publish(key, msg).catch(() => {});
  }

  private onMessage(key: string, msg: string): void {
    const held = this.held.get(key);
    if (!held || !this.handler) return;
    const channel = held.channel;
    try {
      if (msg.startsWith(JOIN)) return this.handler.onJoin(channel, JSON.parse(msg.slice(2)) as PresenceEntry);
      if (msg.startsWith(LEAVE)) return this.handler.onLeave(channel, JSON.parse(msg.slice(2)) as PresenceEntry);
      if (msg.startsWith(SIGNAL)) return this.onSignalMessage(channel, msg);
      const pub = toPublication(channel, msg);
      if (pub && this.track(held, pub)) this.handler.onPublication(pub);
    } catch (err) {
      this.opts.log?.warn({ err, channel }, 'unreadable message from redis');
    }
  }

  private onSignalMessage(channel: string, msg: string): void {
    const nl = msg.indexOf('\n', SIGNAL.length);
    if (nl < 0) throw new Error('signal without a sender line');
    this.handler?.onSignal(channel, msg.slice(SIGNAL.length, nl), msg.slice(nl + 1));
  }

  /**
   * Remember `pub` as the channel's last; false when it is not news: a
   * repeat (same offset and time), or the stream going backwards under the
   * same epoch, which is checked and resynced instead.
   */
  private track(held: Held, pub: ServerPublication): boolean {
    if (pub.offset === 0) return true;
    if (pub.epoch === held.epoch && pub.offset <= held.offset) {
      if ((pub.offset < held.offset || pub.time !== held.time) && !held.checking) void this.resync([channelKeys(this.opts.prefix, held.channel).pubsub]);
      return false;
    }
    held.epoch = pub.epoch;
    held.offset = pub.offset;
    held.time = pub.time;
    raise(held.fence, pub);
    return true;
  }

  /** The link resubscribed `keys`: check each stream against what was seen (rollback), then make subscribers recover. */
  private async resync(keys: string[]): Promise<void> {
    await Promise.all(
      keys.map(async (key) => {
        const held = this.held.get(key);
        if (!held) return;
        held.checking = true;
        if (held.offset > 0) await this.verifyRetrying(key, held);
        held.checking = false;
        if (this.held.get(key) === held) this.handler?.onResync(held.channel);
      }),
    );
  }

  /**
   * The rollback check, tried again while Redis cannot be reached (the pub/sub
   * link may be back before the command connection): resyncing subscribers
   * before the check has run would let them recover from a rolled-back stream.
   */
  private async verifyRetrying(key: string, held: Held): Promise<void> {
    for (let attempt = 1; attempt <= VERIFY_ATTEMPTS && this.held.get(key) === held; attempt++) {
      if (await this.verify(held)) return;
      await new Promise((r) => setTimeout(r, VERIFY_RETRY_MS));
    }
  }

  /** True once the check ran (whatever it found); false when Redis could not be asked. */
  private async verify(held: Held): Promise<boolean> {
    const keys = channelKeys(this.opts.prefix, held.channel);
    try {
      const epoch = await this.cmd.tidingsVerify(keys.stream, keys.meta, held.epoch, held.offset, String(held.time), newEpoch(), Math.ceil(this.opts.streamMetaTtlMs / 1000));
      if (epoch) this.opts.log?.warn({ channel: held.channel, lost: `${held.epoch}:${held.offset}`, epoch }, `stream of ${held.channel} was rolled back (a failover lost publications): new epoch, subscribers are told recovered: false`);
      return true;
    } catch (err) {
      this.opts.log?.debug({ err: (err as Error).message, channel: held.channel }, 'rollback check failed');
      return false;
    }
  }
}

/** Move `fence` to `seen` when it is later: a higher offset, or another epoch (the stream started over). */
function raise(fence: Fence, seen: StreamPosition): void {
  if (seen.offset === 0 || (seen.epoch === fence.epoch && seen.offset <= fence.offset)) return;
  fence.epoch = seen.epoch;
  fence.offset = seen.offset;
}

function toPublication(channel: string, msg: string): ServerPublication | undefined {
  const p = decodePayload(msg);
  if (!p) return undefined;
  const pub: ServerPublication = { channel, offset: p.offset, epoch: p.epoch, data: p.data, time: p.time };
  if (p.info) pub.info = JSON.parse(p.info) as ServerPublication['info'];
  return pub;
}
