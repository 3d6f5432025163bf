/**
 * Redis engine: history in streams, fan-out between nodes through pub/sub
 * (sharded on Redis ≥ 7), presence with expiry, a node registry, and control
 * messages between nodes. Same contract as the memory engine (engine.ts).
 *
 * Three connections: commands (auto-pipelined), channel pub/sub, control
 * pub/sub. Commands fail fast while Redis is away (no offline queue), so an
 * API publish answers 503 instead of hanging or lying. Pub/sub is at most
 * once: when the subscriber connection comes back, every channel held here is
 * resynced (subscribers recover from their own offsets).
 */
import type { PresenceEntry, StreamPosition } from '@tidings/protocol';
import { DEFAULT_PREFIX, HISTORY_SCRIPT, channelKeys, decodePayload, defineScripts, newEpoch, runPublish, supportsShardedPubSub } from '@tidings/publisher';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import {
  type ControlMessage,
  type Engine,
  type EngineHandler,
  EngineUnavailable,
  type HistoryQuery,
  type HistoryResult,
  type NodeInfo,
  type PublishOptions,
  type ServerPublication,
} from './engine.js';
import { RedisPresence } from './redis-presence.js';

export interface RedisEngineOptions {
  url: string;
  prefix?: string;
  presenceTtlMs?: number;
  idempotencyWindowMs?: number;
  /** A stream's epoch survives this long without publications (default 1 day). */
  streamMetaTtlMs?: number;
  /** A node missing from the registry this long is considered dead. */
  nodeTtlMs?: number;
  log?: Logger;
}

type HistoryClient = ReturnType<typeof defineScripts> & { tidingsHistory(...args: Array<string | number>): Promise<Array<string | number>> };

const JOIN = 'J\n';
const LEAVE = 'L\n';
const MAX_READ = 100_000;

export class RedisEngine implements Engine {
  private handler?: EngineHandler;
  private readonly prefix: string;
  private readonly cmd: HistoryClient;
  private readonly sub: Redis;
  private readonly ctl: Redis;
  private readonly presenceStore: RedisPresence;
  /** Channels this node receives, by their pub/sub key. */
  private readonly held = new Map<string, string>();
  private sharded = false;
  private subLost = false;

  constructor(private readonly opts: RedisEngineOptions) {
    this.prefix = opts.prefix ?? DEFAULT_PREFIX;
    const base: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      autoResubscribe: false,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    };
    this.cmd = defineScripts(new Redis(opts.url, { ...base, enableAutoPipelining: true })) as unknown as HistoryClient;
    this.cmd.defineCommand('tidingsHistory', { numberOfKeys: 2, lua: HISTORY_SCRIPT });
    this.sub = new Redis(opts.url, base);
    this.ctl = new Redis(opts.url, base);
    this.presenceStore = new RedisPresence(this.cmd, this.prefix, opts.presenceTtlMs ?? 30_000);
    for (const [name, conn] of [['commands', this.cmd], ['pubsub', this.sub], ['control', this.ctl]] as const) {
      conn.on('error', (err: Error) => opts.log?.debug({ err: err.message, connection: name }, 'redis error'));
    }
  }

  async start(handler: EngineHandler): Promise<void> {
    this.handler = handler;
    await Promise.all([this.cmd.connect(), this.sub.connect(), this.ctl.connect()]);
    this.sharded = await supportsShardedPubSub(this.cmd);
    this.sub.on(this.sharded ? 'smessage' : 'message', (key: string, msg: string) => this.onMessage(key, msg));
    this.sub.on('close', () => (this.subLost = true));
    this.sub.on('ready', () => void this.onSubReady());
    this.ctl.on('message', (_key: string, msg: string) => this.onControlMessage(msg));
    this.ctl.on('ready', () => void this.ctl.subscribe(this.controlKey).catch(() => {}));
    await this.ctl.subscribe(this.controlKey);
    this.presenceStore.start();
  }

  private get controlKey(): string {
    return `${this.prefix}control`;
  }

  // ------------------------------------------------------------ broker

  async subscribe(channel: string): Promise<void> {
    const key = channelKeys(this.prefix, channel).pubsub;
    this.held.set(key, channel);
    try {
      await (this.sharded ? this.sub.ssubscribe(key) : this.sub.subscribe(key));
    } catch (err) {
      this.held.delete(key);
      throw new EngineUnavailable(`cannot subscribe in Redis: ${(err as Error).message}`);
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    const key = channelKeys(this.prefix, channel).pubsub;
    this.held.delete(key);
    await (this.sharded ? this.sub.sunsubscribe(key) : this.sub.unsubscribe(key)).catch(() => {});
  }

  async publish(channel: string, data: string, opts: PublishOptions): Promise<StreamPosition> {
    try {
      return await runPublish(this.cmd, {
        prefix: this.prefix,
        channel,
        data,
        ...(opts.info ? { info: JSON.stringify(opts.info) } : {}),
        history: { size: opts.history.size, ttlSeconds: opts.history.ttlMs / 1000 },
        metaTtlSeconds: Math.ceil((this.opts.streamMetaTtlMs ?? 86_400_000) / 1000),
        ...(opts.idempotencyKey !== undefined ? { idempotencyKey: opts.idempotencyKey } : {}),
        idempotencyTtlSeconds: Math.ceil((this.opts.idempotencyWindowMs ?? 300_000) / 1000),
        sharded: this.sharded,
      });
    } catch (err) {
      throw new EngineUnavailable(`publish failed: ${(err as Error).message}`);
    }
  }

  async history(channel: string, query: HistoryQuery): Promise<HistoryResult> {
    const keys = channelKeys(this.prefix, channel);
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
        Math.ceil((this.opts.streamMetaTtlMs ?? 86_400_000) / 1000),
      );
    } catch (err) {
      throw new EngineUnavailable(`history failed: ${(err as Error).message}`);
    }
    const position = { epoch: String(raw[0]), offset: Number(raw[1]) };
    const cutoff = query.policy ? Date.now() - query.policy.ttlMs : 0;
    const publications: ServerPublication[] = [];
    for (let i = 2; i < raw.length; i++) {
      const pub = this.toPublication(channel, String(raw[i]));
      if (pub && pub.time >= cutoff) publications.push(pub);
    }
    return { publications, position };
  }

  private toPublication(channel: string, msg: string): ServerPublication | undefined {
    const p = decodePayload(msg);
    if (!p) return undefined;
    const pub: ServerPublication = { channel, offset: p.offset, epoch: p.epoch, data: p.data, time: p.time };
    if (p.info) pub.info = JSON.parse(p.info) as ServerPublication['info'];
    return pub;
  }

  private onMessage(key: string, msg: string): void {
    const channel = this.held.get(key);
    if (!channel || !this.handler) return;
    try {
      if (msg.startsWith(JOIN)) return this.handler.onJoin(channel, JSON.parse(msg.slice(2)) as PresenceEntry);
      if (msg.startsWith(LEAVE)) return this.handler.onLeave(channel, JSON.parse(msg.slice(2)) as PresenceEntry);
      const pub = this.toPublication(channel, msg);
      if (pub) this.handler.onPublication(pub);
    } catch (err) {
      this.opts.log?.warn({ err, channel }, 'unreadable message from redis');
    }
  }

  /** Back after a drop: subscribe again, and make every subscriber recover what pub/sub lost meanwhile. */
  private async onSubReady(): Promise<void> {
    if (!this.subLost) return;
    this.subLost = false;
    const keys = [...this.held.keys()];
    if (keys.length > 0) await (this.sharded ? this.sub.ssubscribe(...keys) : this.sub.subscribe(...keys)).catch(() => {});
    for (const channel of this.held.values()) this.handler?.onResync(channel);
  }

  async publishJoin(channel: string, info: PresenceEntry): Promise<void> {
    await this.publishRaw(channel, JOIN + JSON.stringify(info));
  }

  async publishLeave(channel: string, info: PresenceEntry): Promise<void> {
    await this.publishRaw(channel, LEAVE + JSON.stringify(info));
  }

  private async publishRaw(channel: string, msg: string): Promise<void> {
    const key = channelKeys(this.prefix, channel).pubsub;
    await (this.sharded ? this.cmd.spublish(key, msg) : this.cmd.publish(key, msg)).catch(() => {});
  }

  // ------------------------------------------------------------ control and registry

  async publishControl(msg: ControlMessage): Promise<void> {
    try {
      await this.cmd.publish(this.controlKey, JSON.stringify(msg));
    } catch (err) {
      throw new EngineUnavailable(`control message failed: ${(err as Error).message}`);
    }
  }

  private onControlMessage(msg: string): void {
    try {
      this.handler?.onControl(JSON.parse(msg) as ControlMessage);
    } catch (err) {
      this.opts.log?.warn({ err }, 'unreadable control message');
    }
  }

  async announce(node: NodeInfo): Promise<void> {
    await this.cmd.hset(`${this.prefix}nodes`, node.id, JSON.stringify(node)).catch(() => {});
  }

  async nodes(): Promise<NodeInfo[]> {
    const all = await this.cmd.hgetall(`${this.prefix}nodes`);
    const cutoff = Date.now() - (this.opts.nodeTtlMs ?? 15_000);
    const live: NodeInfo[] = [];
    for (const [id, json] of Object.entries(all)) {
      const node = JSON.parse(json) as NodeInfo;
      if (node.updated >= cutoff) live.push(node);
      else void this.cmd.hdel(`${this.prefix}nodes`, id).catch(() => {});
    }
    return live.sort((a, b) => a.id.localeCompare(b.id));
  }

  // ------------------------------------------------------------ presence

  async addPresence(channel: string, entry: PresenceEntry): Promise<void> {
    await this.presenceStore.add(channel, entry).catch((err: Error) => this.opts.log?.debug({ err: err.message }, 'presence add failed'));
  }

  async removePresence(channel: string, client: string): Promise<void> {
    await this.presenceStore.remove(channel, client).catch(() => {});
  }

  async presence(channel: string): Promise<PresenceEntry[]> {
    try {
      return await this.presenceStore.list(channel);
    } catch (err) {
      throw new EngineUnavailable(`presence failed: ${(err as Error).message}`);
    }
  }

  ready(): boolean {
    return this.cmd.status === 'ready' && this.sub.status === 'ready';
  }

  async close(): Promise<void> {
    await this.presenceStore.clear();
    this.handler = undefined;
    this.cmd.disconnect();
    this.sub.disconnect();
    this.ctl.disconnect();
  }
}
