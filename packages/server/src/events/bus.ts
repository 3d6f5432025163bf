/**
 * The node's event bus: what happened to channels and connections on this
 * node, for whoever listens (the webhooks). The hub and the session emit into
 * it; it is a plain listener list, and emitters check `active` first so a node
 * with no listener builds no event at all.
 *
 * Events are local facts ("this node's first subscriber"): turning them into
 * cluster-wide facts ("the first subscriber anywhere") is the listener's job.
 */

/** What the hub and sessions report. `present` is true for a start, false for an end. */
export type NodeEvent =
  /** The first local subscriber of `channel` arrived, or the last one left. */
  | { kind: 'channel'; channel: string; present: boolean }
  /** A connection joined or left a presence channel. */
  | { kind: 'presence'; channel: string; user: string; client: string; present: boolean }
  /** A client published on `channel`; `data` is the JSON text it sent. */
  | { kind: 'publication'; channel: string; user: string; client: string; data: string }
  /** A client sent a signal on `channel` (Pusher client events are signals); `data` is its JSON text. Only when `signals` is on. */
  | { kind: 'signal'; channel: string; user: string; client: string; data: string }
  /** A connection finished its connect, or closed after it. */
  | { kind: 'connection'; user: string; client: string; present: boolean };

export type NodeEventListener = (event: NodeEvent) => void;

export class EventBus {
  private readonly listeners: NodeEventListener[] = [];
  /** Whether anyone listens: emitters skip building the event when not. */
  active = false;
  /** Whether anyone listens to signals (a Pusher app's webhooks): most nodes never pay for them. */
  signals = false;

  on(listener: NodeEventListener, opts: { signals?: boolean } = {}): void {
    this.listeners.push(listener);
    this.active = true;
    if (opts.signals) this.signals = true;
  }

  /** Listeners run synchronously and must not throw (a throw is contained, not propagated to the emitter). */
  emit(event: NodeEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's bug must not break the message path that emitted.
      }
    }
  }
}
