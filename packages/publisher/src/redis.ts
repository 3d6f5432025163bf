/**
 * Publishing straight into Redis, for job workers that sit next to it: the
 * same Lua script the gateway's Redis engine runs (@tidings/streams), so
 * offsets, history, idempotency and fan-out to every gateway node are exactly
 * as if the API had been called. The history policy must match the channel's
 * namespace in the gateway configuration (default: 1,000 publications for 10
 * minutes).
 */
import { DEFAULT_PREFIX, type HistoryPolicySeconds, type ScriptClient, defineScripts, runPublish, supportsShardedPubSub } from '@tidings/streams';
import { Redis } from 'ioredis';
import type { StreamPosition } from './http.js';

export interface RedisPublisherOptions {
  /** An ioredis client, or a redis:// URL. */
  redis: Redis | string;
  prefix?: string;
  history?: HistoryPolicySeconds;
  idempotencyTtlSeconds?: number;
  /** How long a stream's epoch survives without publications (default 1 day). */
  metaTtlSeconds?: number;
}

export class RedisPublisher {
  private readonly redis: ScriptClient;
  private readonly owned: boolean;
  private sharded?: Promise<boolean>;

  constructor(private readonly opts: RedisPublisherOptions) {
    this.owned = typeof opts.redis === 'string';
    this.redis = defineScripts(typeof opts.redis === 'string' ? new Redis(opts.redis) : opts.redis);
  }

  async publish(channel: string, data: unknown, idempotencyKey?: string): Promise<StreamPosition> {
    this.sharded ??= supportsShardedPubSub(this.redis);
    return runPublish(this.redis, {
      prefix: this.opts.prefix ?? DEFAULT_PREFIX,
      channel,
      data: JSON.stringify(data),
      history: this.opts.history ?? { size: 1000, ttlSeconds: 600 },
      metaTtlSeconds: this.opts.metaTtlSeconds ?? 86_400,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      idempotencyTtlSeconds: this.opts.idempotencyTtlSeconds ?? 300,
      sharded: await this.sharded,
    });
  }

  async close(): Promise<void> {
    if (this.owned) await this.redis.quit();
  }
}
