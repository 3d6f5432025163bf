/**
 * The embedded broker: streams live in this process, and fan-out is a
 * synchronous call into the hub, so a channel's publications reach the hub in
 * offset order by construction. History is lost on restart (clients holding
 * an old epoch are then told `recovered: false`). Contract: broker.ts.
 */
import type { PresenceEntry, StreamPosition } from '@tidings/protocol';
import { newEpoch } from '@tidings/streams';
import type { Broker, BrokerHandler, HistoryQuery, HistoryResult, PublishOptions, ServerPublication } from './broker.js';
import { HistoryArena } from './broker-memory-arena.js';
import { MemoryStream } from './broker-memory-stream.js';

export interface MemoryBrokerOptions {
  /** How long an idempotency key is remembered. */
  idempotencyWindowMs?: number;
  /** A stream's epoch and offset survive this long without publications. */
  streamMetaTtlMs?: number;
  /** History memory is asked for in steps of this many bytes (broker-memory-arena.ts). */
  historyReserveBytes?: number;
}

const MAX_IDEMPOTENCY_KEYS = 100_000;
/** One shared settled promise keeps idle channels cheap. */
const RESOLVED = Promise.resolve();

/**
 * Streams are created when a channel is first subscribed (so the subscriber
 * gets a position) or published to. A stream nothing was ever published to is
 * dropped as soon as its last subscriber leaves, so what clients subscribe to
 * costs nothing once they are gone. A new stream's epoch is made from the
 * generation `emptyEpoch` and the channel name, so a client back at offset 0
 * of a dropped empty stream finds the same epoch and recovers (there was
 * nothing to miss). The generation changes whenever a stream that did have
 * publications is dropped, so no client can mistake a new life of that
 * stream for the old one.
 */
export class MemoryBroker implements Broker {
  handler?: BrokerHandler;
  private readonly streams = new Map<string, MemoryStream>();
  /** Where the streams keep their entries' bytes. */
  private readonly arena: HistoryArena;
  private emptyEpoch = newEpoch();
  private readonly idempotency = new Map<string, { pos: StreamPosition; expires: number }>();
  private readonly windowMs: number;
  private readonly metaTtlMs: number;

  constructor(opts: MemoryBrokerOptions = {}) {
    this.windowMs = opts.idempotencyWindowMs ?? 300_000;
    this.metaTtlMs = opts.streamMetaTtlMs ?? 24 * 3_600_000;
    this.arena = new HistoryArena(opts.historyReserveBytes);
  }

  /** Nothing to join in one process. */
  subscribe(): Promise<void> {
    return RESOLVED;
  }

  /** The last local subscriber left: a stream that never had a publication goes with it. */
  unsubscribe(channel: string): Promise<void> {
    if (this.streams.get(channel)?.top === 0) this.streams.delete(channel);
    return RESOLVED;
  }

  /** Streams held (for tests and metrics). */
  get streamCount(): number {
    return this.streams.size;
  }

  /** Bytes the history holds in blocks, and in the slabs they come from (for tests and metrics). */
  get historyMemory(): { held: number; reserved: number } {
    return this.arena.usage;
  }

  async publish(channel: string, data: string, opts: PublishOptions): Promise<StreamPosition> {
    const now = Date.now();
    const key = opts.idempotencyKey === undefined ? undefined : `${channel}\u0000${opts.idempotencyKey}`;
    if (key !== undefined) {
      const seen = this.idempotency.get(key);
      if (seen && seen.expires > now) return seen.pos;
    }
    const pub: ServerPublication = { channel, offset: 0, epoch: '', data, time: now };
    if (opts.info) pub.info = opts.info;
    if (opts.history.size > 0) {
      const stream = this.streamFor(channel, opts.history.ttlMs);
      pub.offset = stream.top + 1;
      pub.epoch = stream.epoch;
      stream.append(pub, opts.history, now);
    }
    const pos = { offset: pub.offset, epoch: pub.epoch };
    if (key !== undefined) this.remember(key, pos, now);
    this.handler?.onPublication(pub);
    return pos;
  }

  async history(channel: string, query: HistoryQuery): Promise<HistoryResult> {
    const stream = query.policy && query.policy.size > 0 ? this.streamFor(channel, query.policy.ttlMs) : this.streams.get(channel);
    if (!stream) return { publications: [], position: { offset: 0, epoch: '' } };
    stream.trimAge(Date.now() - stream.ttlMs);
    const publications = stream.after(channel, query.sinceOffset ?? 0, query.limit ?? Number.MAX_SAFE_INTEGER);
    return { publications, position: { offset: stream.top, epoch: stream.epoch } };
  }

  async publishJoin(channel: string, info: PresenceEntry): Promise<void> {
    this.handler?.onJoin(channel, info);
  }

  async publishLeave(channel: string, info: PresenceEntry): Promise<void> {
    this.handler?.onLeave(channel, info);
  }

  async publishSignal(channel: string, from: string, frameJson: string): Promise<void> {
    this.handler?.onSignal(channel, from, frameJson);
  }

  private streamFor(channel: string, ttlMs: number): MemoryStream {
    let stream = this.streams.get(channel);
    if (!stream) this.streams.set(channel, (stream = new MemoryStream(`${this.emptyEpoch}.${nameHash(channel)}`, this.arena)));
    stream.ttlMs = ttlMs;
    return stream;
  }

  private remember(key: string, pos: StreamPosition, now: number): void {
    if (this.idempotency.size >= MAX_IDEMPOTENCY_KEYS) {
      // Map iterates in insertion order: the first key is the oldest.
      const oldest = this.idempotency.keys().next().value;
      if (oldest !== undefined) this.idempotency.delete(oldest);
    }
    this.idempotency.set(key, { pos, expires: now + this.windowMs });
  }

  /** Free expired history, idle streams and old idempotency keys. */
  sweep(now: number): void {
    for (const [channel, stream] of this.streams) {
      stream.trimAge(now - stream.ttlMs);
      if (stream.size > 0 || stream.idleFor(now) <= this.metaTtlMs) continue;
      this.streams.delete(channel);
      if (stream.top > 0 && stream.epoch.startsWith(`${this.emptyEpoch}.`)) this.emptyEpoch = newEpoch();
    }
    for (const [key, seen] of this.idempotency) if (seen.expires <= now) this.idempotency.delete(key);
    this.arena.trim();
  }
}

/** FNV-1a of the channel name, in base 36: keeps the epochs of different channels apart (a collision would be harmless). */
function nameHash(channel: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < channel.length; i++) h = Math.imul(h ^ channel.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}
