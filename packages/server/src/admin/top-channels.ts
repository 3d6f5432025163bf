/**
 * The busiest channels of one stats window, counted with the Space-Saving
 * algorithm: a table of at most `capacity` counters. A channel already in the
 * table costs one map update; a new one, once the table is full, takes the
 * place of the smallest counter (and inherits its count, so a channel that
 * is really busy is never missed). Memory is bounded by `capacity`, whatever
 * the number of channels.
 */
export interface ChannelCount {
  channel: string;
  count: number;
}

export class TopChannels {
  private readonly counts = new Map<string, number>();
  /** Channels whose count was the table's minimum, `floorCount`, at the last scan (some may have grown since). */
  private floor: string[] = [];
  private floorCount = 0;

  constructor(private readonly capacity: number) {}

  count(channel: string): void {
    const n = this.counts.get(channel);
    if (n !== undefined) this.counts.set(channel, n + 1);
    else if (this.counts.size < this.capacity) this.counts.set(channel, 1);
    else this.replaceSmallest(channel);
  }

  private replaceSmallest(channel: string): void {
    this.counts.delete(this.smallest());
    this.counts.set(channel, this.floorCount + 1);
  }

  /** A channel with the smallest count. Counts only grow and newcomers start above the floor, so one still at it is a minimum. */
  private smallest(): string {
    for (;;) {
      const ch = this.floor.pop();
      if (ch === undefined) this.scan();
      else if (this.counts.get(ch) === this.floorCount) return ch;
    }
  }

  private scan(): void {
    let min = Infinity;
    for (const n of this.counts.values()) if (n < min) min = n;
    this.floorCount = min;
    this.floor = [];
    for (const [ch, n] of this.counts) if (n === min) this.floor.push(ch);
  }

  /** The `n` largest counts of the window, largest first; the next window starts empty. */
  take(n: number): ChannelCount[] {
    const top = [...this.counts].map(([channel, count]) => ({ channel, count }));
    this.counts.clear();
    this.floor = [];
    return top.sort((a, b) => b.count - a.count || (a.channel < b.channel ? -1 : 1)).slice(0, n);
  }
}
