/**
 * Presence in Redis with expiry. Each entry has a deadline in a sorted set;
 * the node that owns the connection pushes the deadline forward on a timer,
 * so the entries of a node that dies vanish after the TTL (no ghost users).
 * Contract: presence.ts.
 */
import type { PresenceEntry } from '@tidings/protocol';
import { channelKeys } from '@tidings/streams';
import type { Logger } from 'pino';
import { EngineUnavailable } from './engine.js';
import type { PresenceStore } from './presence.js';
import type { RedisClient } from './redis-topology.js';

/** KEYS: hash, zset. ARGV: now ms. Drops expired entries, returns the live ones' JSON. */
const READ_SCRIPT = `
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
for _, client in ipairs(expired) do
  redis.call('HDEL', KEYS[1], client)
  redis.call('ZREM', KEYS[2], client)
end
return redis.call('HVALS', KEYS[1])
`;

type PresenceClient = RedisClient & { tidingsPresence(hash: string, zset: string, now: number): Promise<string[]> };

export class RedisPresence implements PresenceStore {
  /** Entries this node owns, refreshed on the timer. */
  private readonly local = new Map<string, Map<string, PresenceEntry>>();
  private timer?: NodeJS.Timeout;
  private readonly redis: PresenceClient;

  constructor(
    redis: RedisClient,
    private readonly prefix: string,
    private readonly ttlMs: number,
    private readonly log?: Logger,
  ) {
    this.redis = redis as PresenceClient;
    if (typeof this.redis.tidingsPresence !== 'function') this.redis.defineCommand('tidingsPresence', { numberOfKeys: 2, lua: READ_SCRIPT });
  }

  start(): void {
    this.timer = setInterval(() => void this.refresh().catch(() => {}), Math.max(1000, this.ttlMs / 3));
    this.timer.unref();
  }

  async add(channel: string, entry: PresenceEntry): Promise<void> {
    let set = this.local.get(channel);
    if (!set) this.local.set(channel, (set = new Map()));
    set.set(entry.client, entry);
    // Kept locally either way: the refresh timer writes it once Redis is back.
    await this.write(channel, [entry]).catch((err: Error) => this.log?.debug({ err: err.message }, 'presence add failed'));
  }

  async remove(channel: string, client: string): Promise<void> {
    const set = this.local.get(channel);
    set?.delete(client);
    if (set?.size === 0) this.local.delete(channel);
    const keys = channelKeys(this.prefix, channel);
    // A failed removal is left to the entry's TTL.
    await this.redis.multi().hdel(keys.presence, client).zrem(keys.presenceExpiry, client).exec().catch(() => {});
  }

  async list(channel: string): Promise<PresenceEntry[]> {
    const keys = channelKeys(this.prefix, channel);
    let values: string[];
    try {
      values = await this.redis.tidingsPresence(keys.presence, keys.presenceExpiry, Date.now());
    } catch (err) {
      throw new EngineUnavailable(`presence failed: ${(err as Error).message}`);
    }
    return values.map((v) => JSON.parse(v) as PresenceEntry);
  }

  /** Push every owned entry's deadline forward (also restores them after a Redis restart). */
  async refresh(): Promise<void> {
    await Promise.all([...this.local].map(([channel, set]) => this.write(channel, [...set.values()])));
  }

  private async write(channel: string, entries: PresenceEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const keys = channelKeys(this.prefix, channel);
    const deadline = Date.now() + this.ttlMs;
    const tx = this.redis.multi();
    for (const e of entries) tx.hset(keys.presence, e.client, JSON.stringify(e)).zadd(keys.presenceExpiry, deadline, e.client);
    const ttlS = Math.ceil((this.ttlMs * 2) / 1000);
    await tx.expire(keys.presence, ttlS).expire(keys.presenceExpiry, ttlS).exec();
  }

  /** Forget owned entries in Redis (graceful shutdown). */
  async clear(): Promise<void> {
    clearInterval(this.timer);
    const all = [...this.local].flatMap(([channel, set]) => [...set.keys()].map((client) => this.remove(channel, client)));
    await Promise.allSettled(all);
  }
}
