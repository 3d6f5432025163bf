/**
 * Publications to Redis, coalesced per event-loop turn and while script calls
 * are in flight. A publish waits for the end of the turn it arrived in (a
 * setImmediate: the poll phase that read it ends first, so its delay is the
 * rest of that turn and no more); then what arrived in the turn goes as one
 * call: the single script for one publication, the batch script
 * (PUBLISH_BATCH_SCRIPT) for more, one write and one reply for all of them
 * (a turn that brought more than MAX_BATCH takes every free call at once).
 * While MAX_IN_FLIGHT calls of a group are out, what arrives waits for one of
 * them to answer and then goes as one batch. Under load the batches grow with
 * the rate, so what a publication costs the node and Redis in socket writes,
 * command objects and script calls falls as the rate rises; a publication
 * never waits longer than one round trip to Redis and the turn it arrived in.
 * Two calls in flight rather than one let Redis run one batch while the node
 * reads the answers of the other: with one, the two took turns, and a node
 * with Redis on another core stopped short of its own CPU.
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
  /** Calls sent and not answered (at most MAX_IN_FLIGHT). */
  inFlight: number;
  /** Publications not sent yet, in arrival order. */
  queue: Waiting[];
}

export class PublishWindow {
  private readonly groups = new Map<number, Group>();
  /** Groups with publications to send at the end of this turn. */
  private readonly due = new Set<number>();
  private scheduled = false;
  private readonly dispatchDue = (): void => {
    this.scheduled = false;
    for (const id of this.due) this.dispatch(id);
    this.due.clear();
  };

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
    const { queue } = group;
    if (group.inFlight < MAX_IN_FLIGHT) this.schedule(id);
    return new Promise((resolve, reject) => queue.push({ publish: p, resolve, reject }));
  }

  private schedule(id: number): void {
    this.due.add(id);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.dispatchDue);
  }

  /** Send what the group holds, MAX_BATCH to a call, while it may have calls in flight; forget a group with nothing left. */
  private dispatch(id: number): void {
    const group = this.groups.get(id);
    if (!group) return;
    // A burst larger than one batch fills every free call at once, so Redis runs one while the node reads the other.
    while (group.inFlight < MAX_IN_FLIGHT && group.queue.length > 0) {
      group.inFlight++;
      void this.send(group.queue.splice(0, MAX_BATCH)).finally(() => this.answered(id, group));
    }
    if (group.inFlight === 0) this.groups.delete(id);
  }

  /** A call answered: what waited meanwhile goes at the end of this turn, with whatever else the turn brings. */
  private answered(id: number, group: Group): void {
    group.inFlight--;
    if (group.queue.length > 0) this.schedule(id);
    else if (group.inFlight === 0) this.groups.delete(id);
  }

  private async send(batch: Waiting[]): Promise<void> {
    if (batch.length === 1) return this.sendOne(batch[0]!);
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

  private async sendOne(w: Waiting): Promise<void> {
    try {
      w.resolve(await runPublish(this.redis, w.publish));
    } catch (err) {
      w.reject(err as Error);
    }
  }
}
