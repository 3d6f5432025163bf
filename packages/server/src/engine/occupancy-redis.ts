/**
 * Occupancy in Redis. Each share is a sorted set of node ids scored by their
 * deadline, under the channel's hash tag (`<prefix>{ch}:oc`, and
 * `<prefix>{ch}:ou:<user>` for a member, with their last sequence numbers in
 * `…:os` and `…:os:<user>`), so every step on it is one atomic script in one
 * cluster slot. Each node pushes its shares' deadlines forward
 * on a timer; an index (`<prefix>occupancy`, share → last deadline) lets any
 * node find shares whose holders all stopped refreshing, and the atomic purge
 * makes exactly one node report each. Contract: occupancy.ts.
 */
import { randomBytes } from 'node:crypto';
import type { RedisClient as Redis } from './redis-topology.js';
import type { Logger } from 'pino';
import type { JoinResult, OccupancyStore, Share } from './occupancy.js';

/**
 * The next sequence number of a share (KEYS[2] keeps its last one): Redis's
 * clock in microseconds, above the last by \`gap\`, so transitions decided on
 * any node are numbered in the order Redis ran them.
 */
const SEQ = `
local function nextseq(gap)
  local t = redis.call('TIME')
  local seq = math.max(tonumber(t[1]) * 1000000 + tonumber(t[2]), (tonumber(redis.call('GET', KEYS[2])) or 0) + gap)
  redis.call('SET', KEYS[2], string.format('%.0f', seq), 'PX', ARGV[#ARGV])
  return seq
end
`;

/** KEYS: share, its seq. ARGV: node, now, deadline, key ttl ms. Returns {purged, before, seq as text}. */
const JOIN = `${SEQ}
local purged = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local before = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
local seq = 0
if before == 0 then seq = nextseq(2) end
return {purged, before, string.format('%.0f', seq)}
`;

/** KEYS: share, its seq. ARGV: node, now, key ttl ms. Returns the vacancy's seq (text) when no holder is left, else '0'. */
const LEAVE = `${SEQ}
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
local purged = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if removed + purged > 0 and redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1])
  return string.format('%.0f', nextseq(1))
end
return '0'
`;

/** KEYS: share, its seq. ARGV: now, key ttl ms. Returns {purged, left, seq as text}. */
const PURGE = `${SEQ}
local purged = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local left = redis.call('ZCARD', KEYS[1])
local seq = 0
if left == 0 then
  redis.call('DEL', KEYS[1])
  if purged > 0 then seq = nextseq(1) end
end
return {purged, left, string.format('%.0f', seq)}
`;

/** KEYS: index. ARGV: member, score read. Forgets the entry unless a holder refreshed it since. */
const UNINDEX = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`;

/** Expired index entries looked at per sweep. */
const SWEEP_BATCH = 100;
/** An abandoned share's key is dropped by Redis after this, even if no node is left to sweep it. */
const KEY_TTL_MS = 86_400_000;

type OccupancyClient = Redis & {
  tidingsOccJoin(key: string, seqKey: string, node: string, now: number, deadline: number, ttl: number): Promise<[number, number, string]>;
  tidingsOccLeave(key: string, seqKey: string, node: string, now: number, ttl: number): Promise<string>;
  tidingsOccPurge(key: string, seqKey: string, now: number, ttl: number): Promise<[number, number, string]>;
  tidingsOccUnindex(index: string, member: string, score: string): Promise<number>;
};

export class RedisOccupancy implements OccupancyStore {
  /** This node's id in the shares' sets: a new one per process, so a restarted node never inherits a dead share. */
  private readonly node = randomBytes(9).toString('base64url');
  /** Shares this node holds, by index member (refreshed on the timer). */
  private readonly held = new Map<string, Share>();
  private readonly redis: OccupancyClient;
  private readonly index: string;
  private timer?: NodeJS.Timeout;
  /** The last deadline written: each write moves it forward, so a refresh of an entry still there always changes its score (CH). */
  private lastDeadline = 0;
  onExpired?: (share: Share, seq: number) => void;
  onLost?: (share: Share) => void;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
    private readonly log?: Logger,
  ) {
    this.redis = redis as OccupancyClient;
    this.index = `${prefix}occupancy`;
    const scripts = { tidingsOccJoin: [2, JOIN], tidingsOccLeave: [2, LEAVE], tidingsOccPurge: [2, PURGE], tidingsOccUnindex: [1, UNINDEX] } as const;
    for (const [name, [numberOfKeys, lua]] of Object.entries(scripts)) {
      if (typeof (this.redis as unknown as Record<string, unknown>)[name] !== 'function') this.redis.defineCommand(name, { numberOfKeys, lua });
    }
  }

  start(): void {
    this.timer = setInterval(() => void this.tick().catch((err: Error) => this.log?.debug({ err: err.message }, 'occupancy refresh failed')), Math.max(200, this.ttlMs / 3));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async join(share: Share): Promise<JoinResult> {
    const member = memberOf(share);
    this.held.set(member, share);
    const now = Date.now();
    const deadline = this.nextDeadline(now);
    const { key, seq: seqKey } = this.keysOf(share);
    const [[purged, before, seq]] = await Promise.all([
      this.redis.tidingsOccJoin(key, seqKey, this.node, now, deadline, KEY_TTL_MS),
      this.redis.zadd(this.index, deadline, member),
    ]);
    return { vacatedFirst: purged > 0 && before === 0, occupied: before === 0, seq: Number(seq) };
  }

  async leave(share: Share): Promise<number> {
    this.held.delete(memberOf(share));
    const { key, seq } = this.keysOf(share);
    return Number(await this.redis.tidingsOccLeave(key, seq, this.node, Date.now(), KEY_TTL_MS));
  }

  async rejoin(share: Share): Promise<JoinResult | undefined> {
    return this.held.has(memberOf(share)) ? this.join(share) : undefined;
  }

  /** Refresh this node's shares, then look for shares whose holders all died. */
  async tick(): Promise<void> {
    await this.refresh();
    await this.sweep();
  }

  /**
   * Push this node's deadlines forward. XX: an entry a sweep purged (this node
   * stalled past the TTL and was reported gone) is not quietly put back but
   * handed to `onLost`, so the caller rejoins it and reports it again.
   */
  private async refresh(): Promise<void> {
    if (this.held.size === 0) return;
    const deadline = this.nextDeadline(Date.now());
    const pipe = this.redis.pipeline();
    const shares = [...this.held.values()];
    for (const share of shares) pipe.zadd(this.keysOf(share).key, 'XX', 'CH', deadline, this.node).zadd(this.index, deadline, memberOf(share));
    const results = (await pipe.exec()) ?? [];
    shares.forEach((share, i) => {
      const [err, changed] = results[2 * i] ?? [];
      if (!err && changed === 0 && this.held.has(memberOf(share))) this.onLost?.(share);
    });
  }

  private nextDeadline(now: number): number {
    this.lastDeadline = Math.max(now + this.ttlMs, this.lastDeadline + 1);
    return this.lastDeadline;
  }

  /** Each expired share is purged by one atomic script, so exactly one node sees it empty and reports it. */
  async sweep(): Promise<void> {
    const now = Date.now();
    const due = await this.redis.zrangebyscore(this.index, '-inf', now, 'WITHSCORES', 'LIMIT', 0, SWEEP_BATCH);
    for (let i = 0; i + 1 < due.length; i += 2) {
      const member = due[i]!;
      const share = shareOf(member);
      if (!share) {
        await this.redis.zrem(this.index, member);
        continue;
      }
      const { key, seq: seqKey } = this.keysOf(share);
      const [purged, left, seq] = await this.redis.tidingsOccPurge(key, seqKey, now, KEY_TTL_MS);
      if (left > 0) continue;
      await this.redis.tidingsOccUnindex(this.index, member, due[i + 1]!);
      if (purged > 0) this.onExpired?.(share, Number(seq));
    }
  }

  /** The share's holders and its last sequence number, under the channel's hash tag. */
  private keysOf(share: Share): { key: string; seq: string } {
    const base = `${this.prefix}{${share.channel}}:`;
    return share.user === undefined ? { key: `${base}oc`, seq: `${base}os` } : { key: `${base}ou:${share.user}`, seq: `${base}os:${share.user}` };
  }
}

/** The index member: the share as JSON, so any node can tell what expired. */
function memberOf(share: Share): string {
  return JSON.stringify(share.user === undefined ? [share.channel] : [share.channel, share.user]);
}

function shareOf(member: string): Share | undefined {
  try {
    const v: unknown = JSON.parse(member);
    if (!Array.isArray(v) || typeof v[0] !== 'string') return undefined;
    return typeof v[1] === 'string' ? { channel: v[0], user: v[1] } : { channel: v[0] };
  } catch {
    return undefined;
  }
}
