/**
 * Shared subscriptions: the client allows one Subscription per channel, and
 * many components may want the same channel. The registry hands out the one
 * Subscription and counts its holders; the last release unsubscribes, one
 * macrotask later, so React's strict-mode unmount/remount (and a component
 * moving in the tree) keeps the subscription instead of sending
 * unsubscribe + subscribe.
 */
import type { Client, Subscription } from '@tidings/client';

interface Entry {
  sub: Subscription<unknown>;
  holders: number;
  /** We created it (and so remove it); false for one the app made with client.subscribe(). */
  owned: boolean;
  releaseTimer: ReturnType<typeof setTimeout> | null;
}

export class ChannelRegistry {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly client: Client) {}

  /** The shared Subscription of `channel`, subscribing if nobody holds it. Call the returned function once to let go. */
  acquire<T = unknown>(channel: string): { sub: Subscription<T>; release: () => void } {
    const entry = this.entryFor(channel);
    entry.holders++;
    if (entry.releaseTimer) {
      clearTimeout(entry.releaseTimer);
      entry.releaseTimer = null;
    }
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.release(channel, entry);
    };
    return { sub: entry.sub as Subscription<T>, release };
  }

  /** Holders of `channel` right now (for tests and debugging). */
  holders(channel: string): number {
    return this.entries.get(channel)?.holders ?? 0;
  }

  private entryFor(channel: string): Entry {
    const known = this.entries.get(channel);
    if (known && this.client.getSubscription(channel) === known.sub) {
      // Someone called sub.unsubscribe() directly: take it up again.
      if (known.sub.state === 'unsubscribed') known.sub.subscribe();
      return known;
    }
    const existing = this.client.getSubscription(channel);
    const entry: Entry =
      existing && existing.state !== 'unsubscribed'
        ? { sub: existing, holders: 0, owned: false, releaseTimer: null }
        : { sub: this.client.subscribe(channel), holders: 0, owned: true, releaseTimer: null };
    this.entries.set(channel, entry);
    return entry;
  }

  private release(channel: string, entry: Entry): void {
    entry.holders--;
    if (entry.holders > 0 || entry.releaseTimer) return;
    entry.releaseTimer = setTimeout(() => {
      entry.releaseTimer = null;
      if (entry.holders > 0 || this.entries.get(channel) !== entry) return;
      this.entries.delete(channel);
      if (entry.owned) this.client.removeSubscription(entry.sub);
    }, 0);
  }
}
