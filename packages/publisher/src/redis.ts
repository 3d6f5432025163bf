/**
 * Publishing straight into Redis, for job workers that sit next to it: the
 * same Lua script the gateway's Redis engine runs, so offsets, history,
 * idempotency and fan-out to every gateway node are exactly as if the API had
 * been called. The history policy must match the channel's namespace in the
 * gateway configuration (default: 1,000 publications for 10 minutes).
 */
import { Redis } from 'ioredis';
import { DEFAULT_PREFIX, PUBLISH_SCRIPT, channelKeys, newEpoch, payloadTail } from './redis-layout.js';
import type { StreamPosition } from './http.js';

export interface HistoryPolicySeconds {
  size: number;
  ttlSeconds: number;
}

export interface RedisPublisherOptions {
  /** An ioredis client, or a redis:// URL. */
  redis: Redis | string;
  prefix?: string;
  history?: HistoryPolicySeconds;
  idempotencyTtlSeconds?: number;
  /** How long a stream's epoch survives without publications (default 1 day). */
  metaTtlSeconds?: number;
}

type ScriptClient = Redis & {
  tidingsPublish(...args: Array<string | number>): Promise<string>;
};

/** Whether this server has sharded pub/sub (Redis ≥ 7). */
export async function supportsShardedPubSub(redis: Redis): Promise<boolean> {
  const info = await redis.info('server');
  const major = Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0);
  return major >= 7;
}

export function defineScripts(redis: Redis): ScriptClient {
  const client = redis as ScriptClient;
  if (typeof client.tidingsPublish !== 'function') client.defineCommand('tidingsPublish', { numberOfKeys: 4, lua: PUBLISH_SCRIPT });
  return client;
}

export interface RawPublish {
  prefix: string;
  channel: string;
  data: string;
  info?: string;
  history: HistoryPolicySeconds;
  metaTtlSeconds: number;
  idempotencyKey?: string;
  idempotencyTtlSeconds: number;
  sharded: boolean;
}

/** Run the publish script; `data` is JSON text. Shared with the gateway engine. */
export async function runPublish(redis: ScriptClient, p: RawPublish): Promise<StreamPosition> {
  const keys = channelKeys(p.prefix, p.channel);
  const idem = p.idempotencyKey === undefined ? keys.meta : keys.idempotency(p.idempotencyKey);
  const result = await redis.tidingsPublish(
    keys.stream,
    keys.meta,
    idem,
    keys.pubsub,
    payloadTail(Date.now(), p.info ?? '', p.data),
    p.history.size,
    Math.max(1, Math.ceil(p.history.ttlSeconds)),
    p.metaTtlSeconds,
    p.idempotencyKey === undefined ? 0 : p.idempotencyTtlSeconds,
    newEpoch(),
    p.sharded ? 'SPUBLISH' : 'PUBLISH',
  );
  const colon = result.indexOf(':');
  return { offset: Number(result.slice(0, colon)), epoch: result.slice(colon + 1) };
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
