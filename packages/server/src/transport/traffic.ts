/**
 * What goes through a transport, for /metrics: frames received are counted as
 * they arrive (one increment), bytes are read from the sockets' own counters
 * when scraped (nothing per message), and those of closed sockets are kept.
 */
import type { SharedFrame } from '../wire/shared-frame.js';

export interface TrafficTotals {
  messagesIn: number;
  bytesIn: number;
  bytesOut: number;
}

export class Traffic implements TrafficTotals {
  messagesIn = 0;
  /** Bytes of sockets already closed; open ones are added at read time. */
  bytesIn = 0;
  bytesOut = 0;

  /** A socket closed: keep what it carried. */
  add(bytesIn: number, bytesOut: number): void {
    this.bytesIn += bytesIn;
    this.bytesOut += bytesOut;
  }
}

/** Told once per sampled publication: milliseconds from publish accepted to fan-out start, and to written to the sockets. */
export interface FanoutObserver {
  observeFanout(lagMs: number, writtenMs: number): void;
}

/** Publications sampled per event-loop turn; beyond this a turn's further ones are not observed. */
const SAMPLES_PER_TURN = 16;

/**
 * Fan-out latency, measured once per publication rather than per subscriber:
 * the first subscriber handed a publication's frame starts the sample, and it
 * ends in the check phase of the same turn, after the outboxes have written
 * (outbox.ts flushes from an earlier setImmediate of that turn). Each further
 * subscriber costs one comparison. One setImmediate per turn ends all of that
 * turn's samples (many channels: thousands of publications per second, each
 * its own frame), kept in fixed arrays so sampling allocates nothing.
 */
export class FanoutSampler {
  private last: SharedFrame | undefined;
  private readonly lags = new Float64Array(SAMPLES_PER_TURN);
  private readonly times = new Float64Array(SAMPLES_PER_TURN);
  private pending = 0;
  private readonly end = (): void => this.observeTurn();

  constructor(private readonly observer: FanoutObserver) {}

  note(frame: SharedFrame): void {
    if (frame === this.last) return;
    this.last = frame;
    const time = frame.position?.time;
    if (time === undefined || this.pending === SAMPLES_PER_TURN) return;
    if (this.pending === 0) setImmediate(this.end);
    this.lags[this.pending] = Date.now() - time;
    this.times[this.pending++] = time;
  }

  private observeTurn(): void {
    const now = Date.now();
    for (let i = 0; i < this.pending; i++) this.observer.observeFanout(this.lags[i]!, now - this.times[i]!);
    this.pending = 0;
  }
}
