/**
 * Running the layout's scripts (redis-layout.ts) through ioredis: the one
 * publish path that the gateway's Redis engine and the Redis publisher share,
 * so a worker publishing straight into Redis is indistinguishable from the API.
 */
import type { Redis } from 'ioredis';
import { newEpoch } from './epoch.js';
import { PUBLISH_SCRIPT, channelKeys, payloadTail } from './redis-layout.js';

export interface HistoryPolicySeconds {
  size: number;
  ttlSeconds: number;
}

export type ScriptClient = Redis & {
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

/** Run the publish script; `data` is JSON text. Resolves with the publication's position. */
export async function runPublish(redis: ScriptClient, p: RawPublish): Promise<{ offset: number; epoch: string }> {
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
