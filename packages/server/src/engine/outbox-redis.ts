/**
 * The outbox in Redis: each queue is a stream (`<prefix>{webhooks:<queue>}:q`,
 * field `e` = the event's JSON) with its lease beside it under the same hash
 * tag (`…:l`, holding the delivering node's id), so the lease check and the
 * removal are one atomic script. Streams are kept by Redis, so queued events
 * survive a gateway restart. Contract: outbox.ts.
 */
import { randomBytes } from 'node:crypto';
import type { RedisClient as Redis } from './redis-topology.js';
import type { Outbox, OutboxItem } from './outbox.js';

/** KEYS: stream. ARGV: max, items… Returns how many of the oldest were dropped. */
const APPEND = `
local before = redis.call('XLEN', KEYS[1])
for i = 2, #ARGV do redis.call('XADD', KEYS[1], '*', 'e', ARGV[i]) end
local over = before + #ARGV - 1 - tonumber(ARGV[1])
if over > 0 then redis.call('XTRIM', KEYS[1], 'MAXLEN', ARGV[1]) return over end
return 0
`;

/** KEYS: lease. ARGV: node, ttl ms. Returns 1 when this node holds the lease now. */
const LEASE = `
local holder = redis.call('GET', KEYS[1])
if not holder then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
`;

/** KEYS: lease. ARGV: node. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
`;

/** KEYS: stream, lease. ARGV: node, ids… Returns 0 (removing nothing) when the lease is someone else's. */
const ACK = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
for i = 2, #ARGV do redis.call('XDEL', KEYS[1], ARGV[i]) end
return 1
`;

type OutboxClient = Redis & {
  tidingsOutboxAppend(stream: string, max: number, ...items: string[]): Promise<number>;
  tidingsOutboxLease(lease: string, node: string, ttl: number): Promise<number>;
  tidingsOutboxRelease(lease: string, node: string): Promise<number>;
  tidingsOutboxAck(stream: string, lease: string, node: string, ...ids: string[]): Promise<number>;
};

export class RedisOutbox implements Outbox {
  /** Who holds a lease: one id per process, so a restarted node waits for its old lease to expire like any other. */
  private readonly node = randomBytes(9).toString('base64url');
  private readonly redis: OutboxClient;
  readonly durable = true;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    this.redis = redis as OutboxClient;
    const scripts = { tidingsOutboxAppend: [1, APPEND], tidingsOutboxLease: [1, LEASE], tidingsOutboxRelease: [1, RELEASE], tidingsOutboxAck: [2, ACK] } as const;
    for (const [name, [numberOfKeys, lua]] of Object.entries(scripts)) {
      if (typeof (this.redis as unknown as Record<string, unknown>)[name] !== 'function') this.redis.defineCommand(name, { numberOfKeys, lua });
    }
  }

  async append(queue: string, items: readonly string[], maxItems: number): Promise<number> {
    if (items.length === 0) return 0;
    return this.redis.tidingsOutboxAppend(this.keys(queue).stream, maxItems, ...items);
  }

  async lease(queue: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.tidingsOutboxLease(this.keys(queue).lease, this.node, Math.max(1, Math.round(ttlMs)))) === 1;
  }

  async release(queue: string): Promise<void> {
    await this.redis.tidingsOutboxRelease(this.keys(queue).lease, this.node);
  }

  async peek(queue: string, limit: number): Promise<OutboxItem[]> {
    const entries = await this.redis.xrange(this.keys(queue).stream, '-', '+', 'COUNT', limit);
    return entries.map(([ref, fields]) => ({ ref, json: fields[1] ?? 'null' }));
  }

  async ack(queue: string, refs: readonly string[]): Promise<boolean> {
    const { stream, lease } = this.keys(queue);
    return (await this.redis.tidingsOutboxAck(stream, lease, this.node, ...refs)) === 1;
  }

  async depth(queue: string): Promise<number> {
    return this.redis.xlen(this.keys(queue).stream);
  }

  private keys(queue: string) {
    const base = `${this.prefix}{webhooks:${queue}}:`;
    return { stream: `${base}q`, lease: `${base}l` };
  }
}
