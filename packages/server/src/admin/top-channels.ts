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

  constructor(private readonly capacity: number) {}

  count(channel: string): void {
    const n = this.counts.get(channel);
    if (n !== undefined) this.counts.set(channel, n + 1);
    else if (this.counts.size < this.capacity) this.counts.set(channel, 1);
    else this.replaceSmallest(channel);
  }

  private replaceSmallest(channel: string): void {
    let smallest = '';
    let min = Infinity;
    for (const [ch, n] of this.counts) {
      if (n < min) {
        min = n;
        smallest = ch;
      }
    }
    this.counts.delete(smallest);
    this.counts.set(channel, min + 1);
  }

  /** The `n` largest counts of the window, largest first; the next window starts empty. */
  take(n: number): ChannelCount[] {
    const top = [...this.counts].map(([channel, count]) => ({ channel, count }));
    this.counts.clear();
    return top.sort((a, b) => b.count - a.count || (a.channel < b.channel ? -1 : 1)).slice(0, n);
  }
}
