/**
 * Publications to Redis, coalesced while script calls are in flight: a
 * publish goes out at once while fewer than MAX_IN_FLIGHT calls of its group
 * are (no added latency when idle); those that arrive while the group is at
 * that limit wait for one of its calls to answer and then go as one batch
 * script call (PUBLISH_BATCH_SCRIPT), one write and one reply for all of
 * them. Under load the batches grow with the rate, so what a publication
 * costs the node and Redis in socket writes, command objects and script calls
 * falls as the rate rises, and it never waits longer than one round trip to
 * Redis. Two calls in flight rather than one let Redis run one batch while the
 * node reads the answers of the other: with one, the two took turns, and a
 * node with Redis on another core stopped short of its own CPU.
 *
 * Order is arrival order: every call of a group goes on the same connection
 * (Redis runs them in the order sent), and what waits goes first in, first
 * out, before any later publish. On a cluster, a group is a hash slot (a
 * script's keys must share one); on one server, everything is one group.
 */
import { type RawPublish, type ScriptClient, type StreamPositionOrError, keySlot, runPublish, runPublishBatch } from '@tidings/streams';
import type { StreamPosition } from '@tidings/protocol';

/** Publications per script call: bounds the call's size and how long Redis is busy with it. */
export const MAX_BATCH = 256;

/** Script calls of one group in flight at once. */
export const MAX_IN_FLIGHT = 2;

interface Waiting {
  publish: RawPublish;
  resolve: (position: StreamPosition) => void;
  reject: (err: Error) => void;
}

interface Group {
  /** Calls sent and not answered; `queue` is empty unless this is MAX_IN_FLIGHT. */
  inFlight: number;
  queue: Waiting[];
}

export class PublishWindow {
  private readonly groups = new Map<number, Group>();

  /** `slotted`: the client is a cluster, so batches are per hash slot. */
  constructor(
    private readonly redis: ScriptClient,
    private readonly slotted: boolean,
  ) {}

  /** `key`: one of the publication's keys (on a cluster, its slot is the group). */
  publish(p: RawPublish, key: string): Promise<StreamPosition> {
    const id = this.slotted ? keySlot(key) : 0;
    let group = this.groups.get(id);
    if (!group) {
      group = { inFlight: 0, queue: [] };
      this.groups.set(id, group);
    }
    if (group.inFlight < MAX_IN_FLIGHT) return this.single(id, group, p);
    return new Promise((resolve, reject) => group.queue.push({ publish: p, resolve, reject }));
  }

  private async single(id: number, group: Group, p: RawPublish): Promise<StreamPosition> {
    group.inFlight++;
    try {
      return await runPublish(this.redis, p);
    } finally {
      this.next(id, group);
    }
  }

  /** A call answered: send what queued meanwhile in its place, or forget the group once none is in flight. */
  private next(id: number, group: Group): void {
    if (group.queue.length === 0) {
      if (--group.inFlight === 0) this.groups.delete(id);
      return;
    }
    const batch = group.queue.splice(0, MAX_BATCH);
    void this.send(batch).finally(() => this.next(id, group));
  }

  private async send(batch: Waiting[]): Promise<void> {
    let results: StreamPositionOrError[];
    try {
      results = await runPublishBatch(this.redis, batch.map((w) => w.publish));
    } catch (err) {
      for (const w of batch) w.reject(err as Error);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const r = results[i]!;
      if (r instanceof Error) batch[i]!.reject(r);
      else batch[i]!.resolve(r);
    }
  }
}
