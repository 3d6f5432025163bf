/**
 * `engine.redis`: which Redis topology the Redis engine runs on. Empty lists
 * mean one server at `engine.redisUrl`; seed nodes mean Redis Cluster;
 * sentinels mean a primary with replicas that the sentinels fail over.
 * The URL still carries the password, user, TLS and database for every topology.
 */
import { z } from 'zod';

const hostPort = z.string().regex(/^[A-Za-z0-9_.\-[\]:]+:\d{1,5}$/, 'expected host:port');

export const REDIS_TOPOLOGY_DEFAULTS = { cluster: [], sentinels: [], name: 'mymaster', waitReplicas: 0, waitTimeout: 1000 };

/** Built with the schema's duration type, which lives in schema.ts. */
export function redisTopologySchema(duration: z.ZodType<number, string | number>) {
  return z
    .object({
      /** Seed nodes of a Redis Cluster (`host:port`); any reachable primary is enough, the rest is discovered. */
      cluster: z.array(hostPort).default([]),
      /** Sentinels watching the primary (`host:port`). */
      sentinels: z.array(hostPort).default([]),
      /** The name the sentinels know the primary by. */
      name: z.string().min(1).default('mymaster'),
      /** Acknowledge a publish only once this many replicas have it (WAIT); 0 acknowledges on the primary. */
      waitReplicas: z.number().int().min(0).max(16).default(0),
      /** How long a publish waits for those replicas before it answers 503. */
      waitTimeout: duration.default(1000),
    })
    .strict()
    .refine((r) => r.cluster.length === 0 || r.sentinels.length === 0, { message: 'give either cluster seed nodes or sentinels, not both' });
}

export type RedisTopologyConfig = z.output<ReturnType<typeof redisTopologySchema>>;
