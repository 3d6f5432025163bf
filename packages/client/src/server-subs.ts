/**
 * Server-side subscriptions (the user's personal channel and any others the
 * server adds at connect). The server takes them with the connect command,
 * so they can only come back through a new connect: this module remembers
 * the last position delivered on each, to send back with the next connect
 * for recovery, and turns their pushes into Client events. A gap or a
 * `resubscribe` therefore means reconnecting, which the Client does.
 */
import { CloseCode, type Publication, type StreamPosition, type SubscribeResult, type UnsubPush } from '@tidings/protocol';
import type { ClientEvents } from './client-events.js';
import { type PresenceEvent, classify, publicationOf, subscribedContext } from './subscription.js';

/** The Client events that come from server-side subscriptions. */
type ServerSubEvent = 'publication' | 'subscribed' | 'unsubscribed' | 'join' | 'leave';

export interface ServerSubsHost {
  emit<K extends ServerSubEvent>(event: K, payload: ClientEvents[K]): void;
  /** Drop the connection and reconnect, recovering from the positions kept here. */
  reconnect(code: number, reason: string): void;
}

export class ServerSubs {
  /** Channel → last position delivered, sent back on reconnect so these recover too. */
  private positions = new Map<string, StreamPosition>();

  constructor(private readonly host: ServerSubsHost) {}

  has(channel: string): boolean {
    return this.positions.has(channel);
  }

  /** For the connect command: where each subscription left off, or undefined when there are none. */
  connectParam(): Record<string, StreamPosition> | undefined {
    return this.positions.size > 0 ? Object.fromEntries(this.positions) : undefined;
  }

  /**
   * The server-side subscriptions of a connect reply. `current` turns false
   * once a listener has ended the connection: stop delivering then.
   */
  apply(results: SubscribeResult[], current: () => boolean): void {
    const previous = this.positions;
    // Only what the server holds now is worth remembering; seed with old positions until delivered.
    this.positions = new Map(results.map((r) => [r.channel, previous.get(r.channel) ?? { offset: r.offset, epoch: r.epoch }]));
    for (const r of results) {
      if (!current()) return;
      this.applyOne(r, previous.get(r.channel), current);
    }
  }

  /** A publication on a server-side channel (the Client checks there is a session). */
  onPublication(pub: Publication): void {
    if (!this.positions.has(pub.channel)) return;
    const verdict = classify(this.positions.get(pub.channel), pub);
    if (verdict === 'duplicate') return;
    // Server-side subscriptions can only be retaken through connect: reconnect, recovering from the last position.
    if (verdict === 'gap') return this.host.reconnect(CloseCode.InsufficientState, 'insufficient state');
    this.advance(pub.channel, pub);
    this.host.emit('publication', publicationOf(pub));
  }

  onPresence(type: 'join' | 'leave', channel: string, info: PresenceEvent['info']): void {
    if (this.positions.has(channel)) this.host.emit(type, { channel, info });
  }

  /** The server ended a server-side subscription. */
  onUnsub(push: UnsubPush): void {
    if (!this.positions.has(push.channel)) return;
    // Server-side subscriptions come back only through a new connect.
    if (push.resubscribe) return this.host.reconnect(push.code, push.reason);
    this.positions.delete(push.channel);
    this.host.emit('unsubscribed', { channel: push.channel, code: push.code, reason: push.reason });
  }

  /** Deliver what the connect reply recovered, skipping what was seen before `last`. */
  private applyOne(r: SubscribeResult, last: StreamPosition | undefined, current: () => boolean): void {
    this.host.emit('subscribed', subscribedContext(r));
    for (const p of r.publications ?? []) {
      if (!current()) return;
      if (classify(last, p) === 'duplicate') continue;
      this.advance(r.channel, p);
      this.host.emit('publication', publicationOf(p));
    }
    if (current()) this.positions.set(r.channel, { offset: r.offset, epoch: r.epoch });
  }

  /** Offset 0 marks a channel without history: no position to keep. */
  private advance(channel: string, pos: StreamPosition): void {
    if (pos.offset > 0) this.positions.set(channel, { offset: pos.offset, epoch: pos.epoch });
  }
}
