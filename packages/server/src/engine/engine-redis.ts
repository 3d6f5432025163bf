/**
 * The Redis engine: the Redis broker, presence, control bus and registry on
 * one Redis topology (one server, Sentinel, or Cluster; redis-topology.ts):
 * a shared command client (auto-pipelined), the broker's pub/sub link and the
 * control bus's link, so several gateway nodes share streams, presence and users.
 */
import { DEFAULT_PREFIX, defineScripts } from '@tidings/streams';
import type { Logger } from 'pino';
import { RedisBroker } from './broker-redis.js';
import { RedisControl } from './control-redis.js';
import type { Engine, EngineHandler } from './engine.js';
import { RedisNodes } from './nodes-redis.js';
import { RedisOccupancy } from './occupancy-redis.js';
import { RedisOutbox } from './outbox-redis.js';
import { RedisPresence } from './presence-redis.js';
import type { PubSubLink } from './redis-pubsub.js';
import { RedisConnections, type RedisTopology, describeTopology } from './redis-topology.js';
import { watchRedis } from './redis-watch.js';

export interface RedisEngineOptions {
  /** One server's URL; with `topology`, the credentials, TLS and database for its nodes. */
  url: string;
  /** Sentinel or Cluster; one server at `url` when absent. */
  topology?: RedisTopology;
  prefix?: string;
  presenceTtlMs?: number;
  idempotencyWindowMs?: number;
  /** A stream's epoch survives this long without publications (default 1 day). */
  streamMetaTtlMs?: number;
  /** A node missing from the registry this long is considered dead. */
  nodeTtlMs?: number;
  /** Acknowledge publishes once this many replicas have them (WAIT); 0 on the primary. */
  waitReplicas?: number;
  waitTimeoutMs?: number;
  log?: Logger;
}

export class RedisEngine implements Engine {
  readonly broker: RedisBroker;
  readonly presence: RedisPresence;
  readonly control: RedisControl;
  readonly nodes: RedisNodes;
  readonly occupancy: RedisOccupancy;
  readonly outbox: RedisOutbox;
  private readonly redis: RedisConnections;
  private readonly channelLink: PubSubLink;
  private readonly controlLink: PubSubLink;
  private readonly where: string;
  private lastError?: string;

  constructor(opts: RedisEngineOptions) {
    const topology = opts.topology ?? { kind: 'standalone', url: opts.url };
    this.where = describeTopology(topology);
    const prefix = opts.prefix ?? DEFAULT_PREFIX;
    if (topology.kind === 'cluster' && /[{}]/.test(prefix)) throw new Error('engine.prefix may not contain { or } on Redis Cluster (the channel is the hash tag)');
    this.redis = new RedisConnections(topology);
    const cmd = defineScripts(this.redis.cmd);
    this.channelLink = this.redis.pubsub('shard');
    this.controlLink = this.redis.pubsub('broadcast');
    this.broker = new RedisBroker(cmd, this.channelLink, {
      prefix,
      idempotencyWindowMs: opts.idempotencyWindowMs ?? 300_000,
      streamMetaTtlMs: opts.streamMetaTtlMs ?? 86_400_000,
      waitReplicas: opts.waitReplicas ?? 0,
      waitTimeoutMs: opts.waitTimeoutMs ?? 1000,
      log: opts.log,
    });
    this.presence = new RedisPresence(cmd, prefix, opts.presenceTtlMs ?? 30_000, opts.log);
    // On a cluster the control key gets a hash tag of its own, like a channel.
    this.control = new RedisControl(this.controlLink, topology.kind === 'cluster' ? `${prefix}{control}` : `${prefix}control`, opts.log);
    this.nodes = new RedisNodes(cmd, `${prefix}nodes`, opts.nodeTtlMs ?? 15_000);
    this.occupancy = new RedisOccupancy(cmd, prefix, opts.presenceTtlMs ?? 30_000, opts.log);
    this.outbox = new RedisOutbox(cmd, prefix);
    this.redis.cmd.on('error', (err: Error) => {
      this.lastError = err.message;
      opts.log?.debug({ err: err.message }, 'redis error');
    });
    watchRedis([this.redis.cmd, this.channelLink.events, this.controlLink.events], this.where, () => this.ready(), opts.log);
  }

  async start(handler: EngineHandler): Promise<void> {
    try {
      await this.redis.connect();
      await Promise.all([this.channelLink.connect(), this.controlLink.connect()]);
    } catch (err) {
      // Stop retrying, so a node that cannot start also does not linger.
      this.redis.close();
      throw new Error(`cannot reach Redis (${this.where}): ${this.lastError ?? (err as Error).message}`);
    }
    this.broker.start(handler);
    await this.control.start(handler);
    this.presence.start();
    this.occupancy.start();
  }

  /** Commands and both links: without the control link, user disconnects and forwarded SSE commands would fail. */
  ready(): boolean {
    return this.redis.ready();
  }

  async close(): Promise<void> {
    await this.presence.clear();
    this.occupancy.stop();
    this.broker.stop();
    this.control.stop();
    this.redis.close();
  }
}
