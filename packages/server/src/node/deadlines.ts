/**
 * One timer for every session's deadlines on a node (connect timeout, ping,
 * pong, token expiry). A Node `Timeout` per connection, with its closure, was
 * a large share of an idle connection's heap (bench/RESULTS.md, idle memory);
 * here a session costs one slot in a bucket and two small integers.
 *
 * Deadlines are rounded up to the wheel's tick: they fire up to one tick late,
 * never early. Time is monotonic (`performance.now()`), so a wall-clock step
 * (NTP, a resumed VM) neither stalls nor fires every deadline at once. An item
 * sits in at most one bucket, at a known slot, and leaves it as soon as it is
 * re-armed or cancelled: a closed session is not held until its old tick.
 */
import { performance } from 'node:perf_hooks';

/** Something with a deadline. The wheel owns both fields (-1 = none). */
export interface HasDeadline {
  dueTick: number;
  dueSlot: number;
  onDeadline(): void;
}

export class Deadlines<T extends HasDeadline> {
  private readonly buckets = new Map<number, T[]>();
  private readonly startedAt = performance.now();
  /** Last tick whose bucket has been run. */
  private done = -1;
  private timer?: NodeJS.Timeout;

  constructor(
    readonly tickMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Monotonic milliseconds since the wheel started: small integers (V8 Smis) for deadlines kept in objects. */
  now(): number {
    return Math.floor(performance.now() - this.startedAt);
  }

  /** Wake `item` at `at` (on the `now()` clock), replacing its earlier deadline. */
  schedule(item: T, at: number): void {
    this.cancel(item);
    if (!this.timer) {
      this.done = Math.max(this.done, Math.floor(this.now() / this.tickMs) - 1);
      this.timer = setInterval(() => this.run(), this.tickMs).unref();
    }
    const tick = Math.max(this.done + 1, Math.ceil(at / this.tickMs));
    let bucket = this.buckets.get(tick);
    if (!bucket) this.buckets.set(tick, (bucket = []));
    item.dueTick = tick;
    item.dueSlot = bucket.length;
    bucket.push(item);
  }

  /** Forget `item`'s deadline, if any. */
  cancel(item: T): void {
    const bucket = item.dueTick < 0 ? undefined : this.buckets.get(item.dueTick);
    // A bucket being run is already out of the map: there, resetting dueTick is enough (fire() skips it).
    if (bucket && bucket[item.dueSlot] === item) {
      const last = bucket.pop()!;
      if (last !== item) {
        bucket[item.dueSlot] = last;
        last.dueSlot = item.dueSlot;
      }
      if (bucket.length === 0) this.buckets.delete(item.dueTick);
    }
    item.dueTick = -1;
    item.dueSlot = -1;
  }

  /** Stop the timer; pending deadlines are dropped. */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const bucket of this.buckets.values()) for (const item of bucket) item.dueTick = item.dueSlot = -1;
    this.buckets.clear();
  }

  private run(): void {
    // Tick t holds deadlines in ((t-1)·tickMs, t·tickMs]: it is due once that whole span has passed.
    const now = Math.floor(this.now() / this.tickMs);
    while (this.done < now) {
      const tick = ++this.done;
      const bucket = this.buckets.get(tick);
      if (!bucket) continue;
      this.buckets.delete(tick);
      for (const item of bucket) this.fire(item, tick);
    }
    if (this.buckets.size === 0) this.close();
  }

  private fire(item: T, tick: number): void {
    if (item.dueTick !== tick) return; // cancelled or re-armed by an earlier item of this bucket
    item.dueTick = item.dueSlot = -1;
    try {
      item.onDeadline();
    } catch (err) {
      try {
        this.onError(err); // one item's fault must not stop the others' deadlines
      } catch {}
    }
  }
}

/** A tick fine enough for the configured deadlines: a quarter of the shortest, within 10–100 ms. */
export function tickFor(...durationsMs: number[]): number {
  return Math.min(100, Math.max(10, Math.floor(Math.min(...durationsMs) / 4)));
}
