/**
 * The Redis engine: the Redis broker, presence, control bus and registry on
 * three connections (commands, auto-pipelined; channel pub/sub; control
 * pub/sub), so several gateway nodes share streams, presence and users.
 */
import { DEFAULT_PREFIX, defineScripts, supportsShardedPubSub } from '@tidings/streams';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { RedisBroker } from './broker-redis.js';
import { RedisControl } from './control-redis.js';
import type { Engine, EngineHandler } from './engine.js';
import { RedisNodes } from './nodes-redis.js';
import { RedisOccupancy } from './occupancy-redis.js';
import { RedisOutbox } from './outbox-redis.js';
import { RedisPresence } from './presence-redis.js';
import { redactUrl, watchRedis } from './redis-watch.js';

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

/** Fail fast while Redis is away, and let the engine resubscribe by itself (at-most-once pub/sub is resynced). */
const CONNECTION: RedisOptions = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  autoResubscribe: false,
  retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
};

export class RedisEngine implements Engine {
  readonly broker: RedisBroker;
  readonly presence: RedisPresence;
  readonly control: RedisControl;
  readonly nodes: RedisNodes;
  readonly occupancy: RedisOccupancy;
  readonly outbox: RedisOutbox;
  private readonly cmd: Redis;
  private readonly sub: Redis;
  private readonly ctl: Redis;
  private readonly url: string;
  private lastError?: string;

  constructor(opts: RedisEngineOptions) {
    this.url = opts.url;
    const prefix = opts.prefix ?? DEFAULT_PREFIX;
    const cmd = defineScripts(new Redis(opts.url, { ...CONNECTION, enableAutoPipelining: true }));
    this.cmd = cmd;
    this.sub = new Redis(opts.url, CONNECTION);
    this.ctl = new Redis(opts.url, CONNECTION);
    this.broker = new RedisBroker(cmd, this.sub, {
      prefix,
      idempotencyWindowMs: opts.idempotencyWindowMs ?? 300_000,
      streamMetaTtlMs: opts.streamMetaTtlMs ?? 86_400_000,
      log: opts.log,
    });
    this.presence = new RedisPresence(cmd, prefix, opts.presenceTtlMs ?? 30_000, opts.log);
    this.control = new RedisControl(cmd, this.ctl, `${prefix}control`, opts.log);
    this.nodes = new RedisNodes(cmd, `${prefix}nodes`, opts.nodeTtlMs ?? 15_000);
    this.occupancy = new RedisOccupancy(cmd, prefix, opts.presenceTtlMs ?? 30_000, opts.log);
    this.outbox = new RedisOutbox(cmd, prefix);
    for (const [name, conn] of [['commands', this.cmd], ['pubsub', this.sub], ['control', this.ctl]] as const) {
      conn.on('error', (err: Error) => {
        this.lastError = err.message;
        opts.log?.debug({ err: err.message, connection: name }, 'redis error');
      });
    }
    watchRedis([this.cmd, this.sub, this.ctl], opts.url, opts.log);
  }

  async start(handler: EngineHandler): Promise<void> {
    await Promise.all([this.cmd.connect(), this.sub.connect(), this.ctl.connect()]).catch((err: Error) => {
      // Stop retrying, so a node that cannot start also does not linger.
      for (const conn of [this.cmd, this.sub, this.ctl]) conn.disconnect();
      throw new Error(`cannot reach Redis at ${redactUrl(this.url)}: ${this.lastError ?? err.message}`);
    });
    this.broker.start(handler, await supportsShardedPubSub(this.cmd));
    await this.control.start(handler);
    this.presence.start();
    this.occupancy.start();
  }

  /** All three connections: without the control one, user disconnects and forwarded SSE commands would fail. */
  ready(): boolean {
    return this.cmd.status === 'ready' && this.sub.status === 'ready' && this.ctl.status === 'ready';
  }

  async close(): Promise<void> {
    await this.presence.clear();
    this.occupancy.stop();
    this.broker.stop();
    this.control.stop();
    this.cmd.disconnect();
    this.sub.disconnect();
    this.ctl.disconnect();
  }
}
