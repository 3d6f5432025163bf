/** The outbox in this process: one node, so the lease is always ours; lost on restart. Contract: outbox.ts. */
import type { Outbox, OutboxItem } from './outbox.js';

interface MemoryQueue {
  items: OutboxItem[];
  next: number;
}

export class MemoryOutbox implements Outbox {
  readonly durable = false;
  private readonly queues = new Map<string, MemoryQueue>();

  async append(queue: string, items: readonly string[], maxItems: number): Promise<number> {
    const q = this.queueOf(queue);
    for (const json of items) q.items.push({ ref: String(q.next++), json });
    const dropped = Math.max(0, q.items.length - maxItems);
    if (dropped > 0) q.items.splice(0, dropped);
    return dropped;
  }

  async lease(): Promise<boolean> {
    return true;
  }

  async release(): Promise<void> {}

  async peek(queue: string, limit: number): Promise<OutboxItem[]> {
    return this.queues.get(queue)?.items.slice(0, limit) ?? [];
  }

  async ack(queue: string, refs: readonly string[]): Promise<boolean> {
    const q = this.queues.get(queue);
    if (!q || refs.length === 0) return true;
    const done = new Set(refs);
    // What is acked is almost always the head: cut it off without walking the whole queue.
    let head = 0;
    while (head < q.items.length && done.delete(q.items[head]!.ref)) head++;
    q.items.splice(0, head);
    if (done.size > 0) q.items = q.items.filter((item) => !done.has(item.ref));
    return true;
  }

  async depth(queue: string): Promise<number> {
    return this.queues.get(queue)?.items.length ?? 0;
  }

  private queueOf(name: string): MemoryQueue {
    let q = this.queues.get(name);
    if (!q) this.queues.set(name, (q = { items: [], next: 1 }));
    return q;
  }
}
