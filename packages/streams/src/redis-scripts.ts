/**
 * Running the layout's scripts (redis-layout.ts) through ioredis: the one
 * publish path that the gateway's Redis engine and the Redis publisher share,
 * so a worker publishing straight into Redis is indistinguishable from the API.
 * ioredis sends scripts by SHA (EVALSHA) and falls back to EVAL on NOSCRIPT,
 * on every node of a cluster.
 */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { newEpoch } from './epoch.js';
import { PUBLISH_BATCH_SCRIPT, PUBLISH_SCRIPT, channelKeys, payloadTail } from './redis-layout.js';

export interface HistoryPolicySeconds {
  size: number;
  ttlSeconds: number;
}

export type ScriptClient = (Redis | Cluster) & {
  tidingsPublish(...args: Array<string | number>): Promise<string>;
};

/** PUBLISH_SCRIPT's keys, first in publishArgs(). */
const PUBLISH_KEYS = 4;

/** Whether this server has sharded pub/sub (Redis ≥ 7). */
export async function supportsShardedPubSub(redis: Redis | Cluster): Promise<boolean> {
  const info = await redis.info('server');
  const major = Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0);
  return major >= 7;
}

export function defineScripts(redis: Redis | Cluster): ScriptClient {
  const client = redis as ScriptClient;
  if (typeof client.tidingsPublish !== 'function') client.defineCommand('tidingsPublish', { numberOfKeys: PUBLISH_KEYS, lua: PUBLISH_SCRIPT });
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
  /** The last position the caller saw on this channel: a stream found behind it was rolled back and starts a new epoch. */
  fence?: { epoch: string; offset: number };
  /** Resolve only once this many replicas have the write (WAIT, on the same connection). */
  wait?: { replicas: number; timeoutMs: number };
}

/** A publish the primary took, but fewer replicas than asked confirmed in time. */
export class ReplicaWaitError extends Error {
  override name = 'ReplicaWaitError';
  constructor(
    readonly confirmed: number,
    readonly wanted: number,
    readonly position: { offset: number; epoch: string },
  ) {
    super(`the write reached ${confirmed} of ${wanted} replicas in time`);
  }
}

/** PUBLISH_SCRIPT's keys then its arguments. */
function publishArgs(p: RawPublish): Array<string | number> {
  const keys = channelKeys(p.prefix, p.channel);
  const idem = p.idempotencyKey === undefined ? keys.meta : keys.idempotency(p.idempotencyKey);
  return [
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
    p.fence?.epoch ?? '',
    p.fence?.offset ?? 0,
  ];
}

/**
 * Run the batch script: every publication of `batch` in order, in one call
 * (on a cluster their keys must hash to one slot). The answer has one entry
 * per publication, its position or its error; the call itself rejects only
 * when Redis did not run it.
 */
export async function runPublishBatch(redis: ScriptClient, batch: readonly RawPublish[]): Promise<StreamPositionOrError[]> {
  const keys: Array<string | number> = [];
  const args: Array<string | number> = [];
  for (const p of batch) {
    const a = publishArgs(p);
    for (let i = 0; i < a.length; i++) (i < PUBLISH_KEYS ? keys : args).push(a[i]!);
  }
  const replies = await evalBatch(redis, keys.length, [...keys, ...args]);
  return batch.map((_, i) => {
    const reply = String(replies[i] ?? 'Eno reply');
    return reply.startsWith('E') ? new Error(reply.slice(1)) : position(reply);
  });
}

const BATCH_SHA = createHash('sha1').update(PUBLISH_BATCH_SCRIPT).digest('hex');

/**
 * EVALSHA, then EVAL where the server lacks the script. Not a defineCommand():
 * its key count varies, and ioredis would route a custom command with a
 * leading key count by that count, not by its first key, on a cluster.
 */
async function evalBatch(redis: ScriptClient, numKeys: number, args: Array<string | number>): Promise<unknown[]> {
  try {
    return (await redis.evalsha(BATCH_SHA, numKeys, ...args)) as unknown[];
  } catch (err) {
    if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
    return (await redis.eval(PUBLISH_BATCH_SCRIPT, numKeys, ...args)) as unknown[];
  }
}

export type StreamPositionOrError = { offset: number; epoch: string } | Error;

function position(result: string): { offset: number; epoch: string } {
  const colon = result.indexOf(':');
  return { offset: Number(result.slice(0, colon)), epoch: result.slice(colon + 1) };
}

/** Run the publish script; `data` is JSON text. Resolves with the publication's position. */
export async function runPublish(redis: ScriptClient, p: RawPublish): Promise<{ offset: number; epoch: string }> {
  if (!p.wait || p.wait.replicas === 0) return position(await redis.tidingsPublish(...publishArgs(p)));
  // One pipeline: the script and its WAIT go to the same primary, on the same connection.
  const pipe = redis.pipeline() as ReturnType<Redis['pipeline']> & { tidingsPublish(...args: Array<string | number>): unknown };
  pipe.tidingsPublish(...publishArgs(p));
  pipe.wait(p.wait.replicas, p.wait.timeoutMs);
  const replies = (await pipe.exec()) ?? [];
  const [published, waited] = replies;
  if (!published || published[0]) throw published?.[0] ?? new Error('publish got no reply');
  const pos = position(String(published[1]));
  if (!waited || waited[0]) throw waited?.[0] ?? new Error('WAIT got no reply');
  const confirmed = Number(waited[1]);
  if (confirmed < p.wait.replicas) throw new ReplicaWaitError(confirmed, p.wait.replicas, pos);
  return pos;
}
