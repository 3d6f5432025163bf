/**
 * One channel's history in memory: a ring buffer of publications bounded by
 * count and age, with the stream's epoch and top offset.
 */
import type { HistoryPolicy, ServerPublication } from './broker.js';

/** The ring of a stream that has kept nothing yet, shared: most channels never publish (memory per idle channel). */
const NO_ITEMS: Array<ServerPublication | undefined> = [];

const LOADED_AT = Date.now();
function secondsNow(now: number): number {
  return Math.floor((now - LOADED_AT) / 1000);
}

export class MemoryStream {
  constructor(readonly epoch: string) {}

  top = 0;
  /** Seconds since LOADED_AT: a small integer, where a ms timestamp would be a boxed double per stream. */
  private activeAt = secondsNow(Date.now());
  /** How long publications are kept (the channel's history policy, updated on use). */
  ttlMs = 0;
  private items = NO_ITEMS;
  private head = 0;
  private length = 0;

  /** Append `pub` (its offset must be top+1) and trim to the policy. */
  append(pub: ServerPublication, policy: HistoryPolicy, now: number): void {
    this.top = pub.offset;
    this.activeAt = secondsNow(now);
    if (policy.size <= 0) return;
    if (this.length === this.items.length) this.grow(policy.size);
    if (this.length === this.items.length) this.dropOldest();
    this.items[(this.head + this.length) % this.items.length] = pub;
    this.length++;
    while (this.length > policy.size) this.dropOldest();
    this.trimAge(now - policy.ttlMs);
  }

  /** Drop publications older than `cutoff` (ms timestamp). */
  trimAge(cutoff: number): void {
    while (this.length > 0 && this.items[this.head]!.time < cutoff) this.dropOldest();
  }

  /** Milliseconds since the last publication (or creation), at `now`. */
  idleFor(now: number): number {
    return now - (LOADED_AT + this.activeAt * 1000);
  }

  get size(): number {
    return this.length;
  }

  /** Publications with offset > sinceOffset, oldest first, at most `limit`. */
  after(sinceOffset: number, limit: number): ServerPublication[] {
    const out: ServerPublication[] = [];
    if (this.length === 0 || limit <= 0) return out;
    const oldest = this.items[this.head]!.offset;
    // Offsets in the buffer are dense, so the start index is arithmetic.
    const skip = Math.max(0, sinceOffset + 1 - oldest);
    for (let i = skip; i < this.length && out.length < limit; i++) {
      out.push(this.items[(this.head + i) % this.items.length]!);
    }
    return out;
  }

  private grow(max: number): void {
    const cap = this.items.length;
    if (cap >= max) return;
    const next = new Array<ServerPublication | undefined>(Math.min(max, Math.max(16, cap * 2)));
    for (let i = 0; i < this.length; i++) next[i] = this.items[(this.head + i) % cap];
    this.items = next;
    this.head = 0;
  }

  private dropOldest(): void {
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.length--;
  }
}
