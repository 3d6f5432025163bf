/**
 * One timer for every session's deadlines (connect timeout, ping, pong,
 * token expiry). A Node `Timeout` per connection, with its closure, was about
 * 220 B of an idle connection's heap; here a session costs one slot in a
 * bucket and a small integer.
 *
 * Deadlines are rounded up to the wheel's tick: they fire up to one tick late,
 * never early. Cancelling is lazy: an entry whose `dueTick` no longer matches
 * its bucket is skipped when the bucket comes up, so re-arming costs one push.
 */

/** Something with a deadline: the wheel owns `dueTick` (-1 = none). */
export interface HasDeadline {
  dueTick: number;
  onDeadline(): void;
}

export class Deadlines<T extends HasDeadline> {
  private readonly buckets = new Map<number, T[]>();
  private readonly startedAt = Date.now();
  /** Last tick whose bucket has been run. */
  private done: number;
  private timer?: NodeJS.Timeout;

  constructor(
    readonly tickMs: number,
    private readonly onError: (err: unknown) => void,
  ) {
    this.done = -1;
  }

  /** Milliseconds since the wheel started: small integers (V8 Smis) for deadlines kept in objects. */
  now(): number {
    return Date.now() - this.startedAt;
  }

  /** Wake `item` at `at` (on the `now()` clock), replacing its earlier deadline. */
  schedule(item: T, at: number): void {
    if (!this.timer) {
      this.done = Math.max(this.done, Math.floor(this.now() / this.tickMs) - 1);
      this.timer = setInterval(() => this.run(), this.tickMs).unref();
    }
    const tick = Math.max(this.done + 1, this.tickOf(at));
    item.dueTick = tick;
    const bucket = this.buckets.get(tick);
    if (bucket) bucket.push(item);
    else this.buckets.set(tick, [item]);
  }

  cancel(item: T): void {
    item.dueTick = -1;
  }

  /** Stop the timer; pending deadlines are dropped. */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.buckets.clear();
  }

  private tickOf(at: number): number {
    return Math.ceil(at / this.tickMs);
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
    if (item.dueTick !== tick) return; // re-armed or cancelled since
    item.dueTick = -1;
    try {
      item.onDeadline();
    } catch (err) {
      this.onError(err); // one item's fault must not stop the others' deadlines
    }
  }
}

/** A tick fine enough for the configured deadlines: a quarter of the shortest, within 10–100 ms. */
export function tickFor(...durationsMs: number[]): number {
  return Math.min(100, Math.max(10, Math.floor(Math.min(...durationsMs) / 4)));
}
