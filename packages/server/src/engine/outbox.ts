/**
 * The outbox: queues of events (JSON text) waiting to be delivered to an
 * endpoint, shared by every node, and the lease that lets one node at a time
 * deliver a queue, so events leave in the order they were appended.
 *
 * Contract every outbox keeps (test/webhooks-engine.test.ts checks it):
 * - `append` adds to the tail in the order given. A queue holds at most
 *   `maxItems`: beyond, the oldest are dropped and `append` resolves with how
 *   many were.
 * - `lease` takes the queue's lease for `ttlMs`, or renews it when this node
 *   holds it; false while another node does. A lease not renewed expires, so a
 *   dead node's queue is taken over.
 * - `peek` returns up to `limit` items from the head, oldest first, each with
 *   an id for `ack`; it removes nothing. `ack` removes exactly the items
 *   named (items already dropped are ignored), and only while this node holds
 *   the lease (otherwise it resolves false and removes nothing).
 * - The memory outbox lives and dies with the process; the Redis one survives
 *   a gateway restart.
 */

export interface OutboxItem {
  /** The outbox's own handle for `ack`. */
  ref: string;
  json: string;
}

export interface Outbox {
  /** True when queued items survive a restart of the gateway (Redis); false when they die with it (memory). */
  readonly durable: boolean;
  append(queue: string, items: readonly string[], maxItems: number): Promise<number>;
  lease(queue: string, ttlMs: number): Promise<boolean>;
  /** Give the lease up (graceful shutdown), so another node takes over at once. */
  release(queue: string): Promise<void>;
  peek(queue: string, limit: number): Promise<OutboxItem[]>;
  ack(queue: string, refs: readonly string[]): Promise<boolean>;
  depth(queue: string): Promise<number>;
}
