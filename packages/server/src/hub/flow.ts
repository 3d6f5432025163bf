/**
 * Per-subscription flow control: conflation and delta compression
 * (docs/protocol.md). A subscription has a Flow only when it uses one of them,
 * so plain subscriptions cost nothing more.
 *
 * Conflation: on a conflatable namespace, a subscriber that asked for it, or
 * whose connection falls behind, holds ONE pending publication (the latest)
 * and is sent it at most every `interval` ms, and only while its connection
 * is not behind. Its outbox never fills from this channel, so it is never cut
 * for being slow here; history still holds every publication.
 */
import { ErrorCode, ProtocolError, type SubscribeParams } from '@tidings/protocol';
import type { ServerPublication } from '../engine/broker.js';
import type { SharedFrame } from '../wire/shared-frame.js';

/** What the hub needs from a connection for flow control. */
export interface FlowMember {
  sendShared(frame: SharedFrame): void;
  /** Its queue is past the point where a conflatable channel stops sending. */
  readonly behind: boolean;
}

export interface FlowSettings {
  /** Conflation interval in ms; 0: not conflatable. */
  interval: number;
  /** Conflate from the start (the subscriber asked), not only once behind. */
  always: boolean;
  delta: boolean;
}

export type FlowRequest = Pick<SubscribeParams, 'conflate' | 'delta'>;

/** The flow a subscribe asks for, checked against its namespace's `conflate`; undefined when plain. */
export function flowSettings(namespaceConflate: number, want: FlowRequest): FlowSettings | undefined {
  const asked = want.conflate ?? 0;
  if (asked > 0 && namespaceConflate === 0) throw new ProtocolError(ErrorCode.NotAvailable, 'conflation is off for this channel');
  const delta = want.delta === true;
  if (namespaceConflate === 0 && !delta) return undefined;
  return { interval: Math.max(asked, namespaceConflate), always: asked > 0, delta };
}

export class Flow {
  /** The last publication sent to this subscriber: a delta against it is one it can apply. */
  last: ServerPublication | undefined = undefined;
  private conflating: boolean;
  private pending: ServerPublication | undefined = undefined;
  private pendingFrame: SharedFrame | undefined = undefined;
  private timer: NodeJS.Timeout | undefined = undefined;
  private sentAt = -Infinity;
  private stopped = false;

  constructor(
    readonly settings: FlowSettings,
    private readonly member: FlowMember,
  ) {
    this.conflating = settings.always;
  }

  /** A live publication: `frame` is the full one, `delta` the delta frame against `prev` (if any). */
  offer(pub: ServerPublication, frame: SharedFrame, delta: SharedFrame | undefined, prev: ServerPublication | undefined): void {
    if (this.settings.interval > 0 && (this.conflating || this.member.behind)) return this.hold(pub, frame);
    this.send(pub, delta && this.settings.delta && this.last === prev ? delta : frame);
  }

  /** Sent outside `offer` (the publications buffered during subscribe). */
  sent(pub: ServerPublication): void {
    this.last = pub;
  }

  stop(): void {
    this.stopped = true;
    this.pending = this.pendingFrame = undefined;
    clearTimeout(this.timer);
  }

  private send(pub: ServerPublication, frame: SharedFrame): void {
    this.last = pub;
    this.member.sendShared(frame);
  }

  /** Keep only the latest; send it now if the interval has passed and the connection keeps up, else at the next tick. */
  private hold(pub: ServerPublication, frame: SharedFrame): void {
    this.conflating = true;
    this.pending = pub;
    this.pendingFrame = frame;
    if (this.timer) return;
    const wait = this.sentAt + this.settings.interval - performance.now();
    if (wait <= 0 && !this.member.behind) return this.flush();
    this.arm(Math.max(1, wait));
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref();
  }

  private tick(): void {
    this.timer = undefined;
    if (this.stopped) return;
    if (!this.pending) {
      // A quiet interval with room in the queue: back to every publication, unless asked otherwise.
      if (!this.settings.always && !this.member.behind) this.conflating = false;
      return;
    }
    if (this.member.behind) return this.arm(this.settings.interval);
    this.flush();
  }

  /** Send the held publication (always in full: the subscriber skipped the one a delta would build on). */
  private flush(): void {
    const pub = this.pending!;
    const frame = this.pendingFrame!;
    this.pending = this.pendingFrame = undefined;
    this.sentAt = performance.now();
    this.send(pub, frame);
    this.arm(this.settings.interval);
  }
}
