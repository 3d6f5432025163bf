/**
 * The Redis broker: streams in Redis streams, fan-out between nodes through
 * pub/sub (sharded on Redis ≥ 7), with the layout and scripts of
 * @tidings/streams. Contract: broker.ts.
 *
 * Commands fail fast while Redis is away (no offline queue), so an API
 * publish answers 503 instead of hanging or lying. Pub/sub is at most once:
 * when the subscriber connection comes back, every channel held here is
 * resynced (subscribers recover from their own offsets).
 */
import type { PresenceEntry, StreamPosition } from '@tidings/protocol';
import { HISTORY_SCRIPT, type ScriptClient, channelKeys, decodePayload, newEpoch, runPublish } from '@tidings/streams';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Broker, BrokerHandler, HistoryQuery, HistoryResult, PublishOptions, ServerPublication } from './broker.js';
import { EngineUnavailable } from './engine.js';

export interface RedisBrokerOptions {
  prefix: string;
  idempotencyWindowMs: number;
  /** A stream's epoch survives this long without publications. */
  streamMetaTtlMs: number;
  log?: Logger | undefined;
}

type HistoryClient = ScriptClient & { tidingsHistory(...args: Array<string | number>): Promise<Array<string | number>> };

const JOIN = 'J\n';
const LEAVE = 'L\n';
/** "S\n<client>\n<frame JSON>" */
const SIGNAL = 'S\n';
const MAX_READ = 100_000;

export class RedisBroker implements Broker {
  private handler?: BrokerHandler;
  private readonly cmd: HistoryClient;
  /** Channels this node receives, by their pub/sub key. */
  private readonly held = new Map<string, string>();
  private sharded = false;
  private subLost = false;

  /** `cmd` runs commands (scripts defined on it); `sub` is this broker's own pub/sub connection. */
  constructor(
    cmd: ScriptClient,
    private readonly sub: Redis,
    private readonly opts: RedisBrokerOptions,
  ) {
    this.cmd = cmd as HistoryClient;
    if (typeof this.cmd.tidingsHistory !== 'function') this.cmd.defineCommand('tidingsHistory', { numberOfKeys: 2, lua: HISTORY_SCRIPT });
  }

  /** Call once both connections are up. */
  start(handler: BrokerHandler, sharded: boolean): void {
    this.handler = handler;
    this.sharded = sharded;
    this.sub.on(sharded ? 'smessage' : 'message', (key: string, msg: string) => this.onMessage(key, msg));
    this.sub.on('close', () => (this.subLost = true));
    this.sub.on('ready', () => void this.onSubReady());
  }

  stop(): void {
    this.handler = undefined;
  }

  async subscribe(channel: string): Promise<void> {
    const key = channelKeys(this.opts.prefix, channel).pubsub;
    this.held.set(key, channel);
    try {
      await (this.sharded ? this.sub.ssubscribe(key) : this.sub.subscribe(key));
    } catch (err) {
      this.held.delete(key);
      throw new EngineUnavailable(`cannot subscribe in Redis: ${(err as Error).message}`);
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    const key = channelKeys(this.opts.prefix, channel).pubsub;
    this.held.delete(key);
    await (this.sharded ? this.sub.sunsubscribe(key) : this.sub.unsubscribe(key)).catch(() => {});
  }

  async publish(channel: string, data: string, opts: PublishOptions): Promise<StreamPosition> {
    try {
      return await runPublish(this.cmd, {
        prefix: this.opts.prefix,
        channel,
        data,
        ...(opts.info ? { info: JSON.stringify(opts.info) } : {}),
        history: { size: opts.history.size, ttlSeconds: opts.history.ttlMs / 1000 },
        metaTtlSeconds: Math.ceil(this.opts.streamMetaTtlMs / 1000),
        ...(opts.idempotencyKey !== undefined ? { idempotencyKey: opts.idempotencyKey } : {}),
        idempotencyTtlSeconds: Math.ceil(this.opts.idempotencyWindowMs / 1000),
        sharded: this.sharded,
      });
    } catch (err) {
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
      await (this.sharded ? this.cmd.spublish(key, msg) : this.cmd.publish(key, msg));
    } catch (err) {
      throw new EngineUnavailable(`signal failed: ${(err as Error).message}`);
    }
  }

  private async publishRaw(channel: string, msg: string): Promise<void> {
    const key = channelKeys(this.opts.prefix, channel).pubsub;
    await (this.sharded ? this.cmd.spublish(key, msg) : this.cmd.publish(key, msg)).catch(() => {});
  }

  private onMessage(key: string, msg: string): void {
    const channel = this.held.get(key);
    if (!channel || !this.handler) return;
    try {
      if (msg.startsWith(JOIN)) return this.handler.onJoin(channel, JSON.parse(msg.slice(2)) as PresenceEntry);
      if (msg.startsWith(LEAVE)) return this.handler.onLeave(channel, JSON.parse(msg.slice(2)) as PresenceEntry);
      if (msg.startsWith(SIGNAL)) return this.onSignalMessage(channel, msg);
      const pub = toPublication(channel, msg);
      if (pub) this.handler.onPublication(pub);
    } catch (err) {
      this.opts.log?.warn({ err, channel }, 'unreadable message from redis');
    }
  }

  private onSignalMessage(channel: string, msg: string): void {
    const nl = msg.indexOf('\n', SIGNAL.length);
    if (nl < 0) throw new Error('signal without a sender line');
    this.handler?.onSignal(channel, msg.slice(SIGNAL.length, nl), msg.slice(nl + 1));
  }

  /** Back after a drop: subscribe again, and make every subscriber recover what pub/sub lost meanwhile. */
  private async onSubReady(): Promise<void> {
    if (!this.subLost) return;
    this.subLost = false;
    const keys = [...this.held.keys()];
    if (keys.length > 0) await (this.sharded ? this.sub.ssubscribe(...keys) : this.sub.subscribe(...keys)).catch(() => {});
    for (const channel of this.held.values()) this.handler?.onResync(channel);
  }
}

function toPublication(channel: string, msg: string): ServerPublication | undefined {
  const p = decodePayload(msg);
  if (!p) return undefined;
  const pub: ServerPublication = { channel, offset: p.offset, epoch: p.epoch, data: p.data, time: p.time };
  if (p.info) pub.info = JSON.parse(p.info) as ServerPublication['info'];
  return pub;
}
