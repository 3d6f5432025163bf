/**
 * Publications to Redis, coalesced while a script call is in flight: the
 * first publish goes out at once (no added latency when idle); those that
 * arrive before its answer wait for it and then go as one batch script call
 * (PUBLISH_BATCH_SCRIPT), one write and one reply for all of them. Under load
 * the batches grow with the rate, so what a publication costs the node and
 * Redis in socket writes, command objects and script calls falls as the rate
 * rises, and it never waits longer than one round trip to Redis.
 *
 * Order is arrival order: one call in flight per group, groups drained first
 * in, first out. On a cluster, a group is a hash slot (a script's keys must
 * share one); on one server, everything is one group.
 */
import { type RawPublish, type ScriptClient, type StreamPositionOrError, keySlot, runPublish, runPublishBatch } from '@tidings/streams';
import type { StreamPosition } from '@tidings/protocol';

/** Publications per script call: bounds the call's size and how long Redis is busy with it. */
export const MAX_BATCH = 256;

interface Waiting {
  publish: RawPublish;
  resolve: (position: StreamPosition) => void;
  reject: (err: Error) => void;
}

interface Group {
  inFlight: boolean;
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
      group = { inFlight: false, queue: [] };
      this.groups.set(id, group);
    }
    if (!group.inFlight) return this.single(id, group, p);
    return new Promise((resolve, reject) => group.queue.push({ publish: p, resolve, reject }));
  }

  private async single(id: number, group: Group, p: RawPublish): Promise<StreamPosition> {
    group.inFlight = true;
    try {
      return await runPublish(this.redis, p);
    } finally {
      this.next(id, group);
    }
  }

  /** The call in flight answered: send what queued meanwhile, or forget the group. */
  private next(id: number, group: Group): void {
    if (group.queue.length === 0) {
      group.inFlight = false;
      this.groups.delete(id);
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
