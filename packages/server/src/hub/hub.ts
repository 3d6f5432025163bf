/**
 * The hub: this node's index of channel → local subscribers and user →
 * connections. It receives publications from the engine and fans them out:
 * each publication is encoded and framed once, and the same bytes are queued
 * to every subscriber's outbox.
 *
 * Subscribing with recovery is a two-step affair so that nothing is lost or
 * doubled between history and the live stream: `prepare` registers the
 * subscriber in buffering mode, reads history, and decides; the caller then
 * writes the reply and calls `activate`, which sends the buffered live
 * publications not already in the reply and switches to live delivery.
 */
import { type PresenceEntry, type StreamPosition, canonicalJson, makeDelta } from '@tidings/protocol';
import type { Broker, HistoryPolicy, ServerPublication } from '../engine/broker.js';
import type { ControlMessage } from '../engine/control.js';
import type { EngineHandler } from '../engine/engine.js';
import { EventBus } from '../events/bus.js';
import { type SubscribeOutcome, encodeDeltaPub, encodePresenceEvent, encodePub } from '../wire/encode.js';
import { SharedFrame } from '../wire/shared-frame.js';
import { Bag } from './bag.js';
import { Flow, type FlowMember, type FlowSettings } from './flow.js';

/** What the hub needs from a connection. */
export interface Member extends FlowMember {
  readonly id: string;
  readonly user: string;
  sendShared(frame: SharedFrame): void;
  sendJson(json: string): void;
  /** The hub lost continuity for this channel: ask the client to resubscribe and recover. */
  resubscribe(channel: string): void;
  /** The operator ended this subscription: drop it and tell the client not to resubscribe. */
  unsubscribe(channel: string, reason: string): void;
  disconnect(code: number, reason: string): void;
}

export class Subscriber {
  /** Live publications held back while the subscribe reply is being prepared. */
  buffer: ServerPublication[] | null = [];
  removed = false;
  /** Conflation or delta state; absent on plain subscriptions. */
  readonly flow: Flow | undefined;
  constructor(
    readonly member: Member,
    readonly channel: string,
    settings?: FlowSettings,
  ) {
    this.flow = settings ? new Flow(settings, member) : undefined;
  }

  get wantsDelta(): boolean {
    return this.flow?.settings.delta === true;
  }
}

/** A channel's local subscribers (the entry is the Bag itself: one object less per channel). */
class ChannelEntry extends Bag<Subscriber> {
  /** Last position fanned out, to catch gaps and epoch changes from the engine. */
  offset = 0;
  epoch = '';
  /** Subscribers that take deltas; while there are any, the last publication's canonical data is kept. */
  deltaSubscribers = 0;
  last: ServerPublication | undefined = undefined;
  lastCanonical: string | undefined = undefined;
  constructor(
    /** Resolves once the engine delivers this channel to this node. */
    readonly ready: Promise<void>,
  ) {
    super();
  }
}

export interface Prepared {
  outcome: SubscribeOutcome;
  subscriber: Subscriber;
}

/** No publications to send with a reply: shared, and frozen so that nobody fills it by mistake. */
const NO_PUBLICATIONS = Object.freeze([]) as unknown as ServerPublication[];

/** A subscribe outcome with no recovered publications; one literal, so every outcome has the same shape (no spreads on the connect path). */
function outcomeAt(channel: string, recoverable: boolean, wasRecovering: boolean, epoch: string, offset: number): SubscribeOutcome {
  return { channel, recoverable, wasRecovering, recovered: false, publications: NO_PUBLICATIONS, epoch, offset };
}

export class Hub implements EngineHandler {
  private readonly channels = new Map<string, ChannelEntry>();
  private readonly users = new Map<string, Bag<Member>>();
  /** Publications fanned out, and deliveries queued (for metrics). */
  publications = 0;
  deliveries = 0;
  /** Control messages for other parts of the node (SSE commands forwarded from other nodes). */
  readonly controlListeners: Array<(msg: ControlMessage) => void> = [];
  /** The node's event bus (webhooks): the hub reports a channel's first and last local subscriber, sessions the rest. */
  readonly events = new EventBus();
  /** Called once per publication fanned out (the admin stats count channel rates with it; bounded there). */
  countChannel: (channel: string) => void = () => {};

  constructor(private readonly broker: Broker) {}

  // ------------------------------------------------------------ connections

  addMember(m: Member): number {
    let set = this.users.get(m.user);
    if (!set) this.users.set(m.user, (set = new Bag()));
    set.add(m);
    return set.size;
  }

  removeMember(m: Member): void {
    const set = this.users.get(m.user);
    if (!set) return;
    set.delete(m);
    if (set.size === 0) this.users.delete(m.user);
  }

  connectionsOf(user: string): number {
    return this.users.get(user)?.size ?? 0;
  }

  get userCount(): number {
    return this.users.size;
  }

  // ------------------------------------------------------------ subscriptions

  /**
   * Register `member` on `channel` (buffering live publications) and read what
   * it needs: the current position, or every publication after `since`.
   * Recovery is all or nothing: `recovered` is true only when every
   * publication after `since` in the same epoch is returned.
   */
  async prepare(
    member: Member,
    channel: string,
    since: StreamPosition | undefined,
    history: HistoryPolicy,
    maxRecover: number,
    flow?: FlowSettings,
  ): Promise<Prepared> {
    const subscriber = new Subscriber(member, channel, flow);
    const entry = this.entryFor(channel);
    entry.add(subscriber);
    if (subscriber.wantsDelta) entry.deltaSubscribers++;
    try {
      await entry.ready;
      const outcome = await this.readPosition(channel, since, history, maxRecover);
      if (flow?.interval) outcome.conflate = flow.interval;
      if (flow?.delta) outcome.delta = true;
      return { outcome, subscriber };
    } catch (err) {
      this.remove(subscriber);
      throw err;
    }
  }

  private async readPosition(channel: string, since: StreamPosition | undefined, history: HistoryPolicy, maxRecover: number): Promise<SubscribeOutcome> {
    if (history.size <= 0) return outcomeAt(channel, false, since !== undefined, '', 0);
    if (!since) {
      const { position } = await this.broker.history(channel, { limit: 0, policy: history });
      return outcomeAt(channel, true, false, position.epoch, position.offset);
    }
    const h = await this.broker.history(channel, { sinceOffset: since.offset, limit: maxRecover + 1, policy: history });
    const { position, publications } = h;
    const outcome = outcomeAt(channel, true, true, position.epoch, position.offset);
    const missed = position.offset - since.offset;
    const complete =
      since.epoch === position.epoch &&
      missed >= 0 &&
      missed <= maxRecover &&
      publications.length >= missed &&
      (missed === 0 || publications[0]!.offset === since.offset + 1);
    if (complete) {
      outcome.recovered = true;
      outcome.publications = publications.slice(0, missed);
    }
    return outcome;
  }

  /**
   * Switch a prepared subscriber to live delivery. Call right after writing
   * the reply, in the same tick. Buffered publications beyond the reply's
   * position are sent now; a hole between them means the engine lost
   * something, and the client is asked to resubscribe.
   */
  activate(p: Prepared): void {
    const { subscriber, outcome } = p;
    const buffered = subscriber.buffer ?? [];
    subscriber.buffer = null;
    if (subscriber.removed) return;
    let offset = outcome.offset;
    for (const pub of buffered) {
      if (pub.offset === 0) {
        this.sendBuffered(subscriber, pub);
      } else if (pub.epoch === outcome.epoch && pub.offset <= offset) {
        continue; // already in the reply
      } else if (pub.epoch === outcome.epoch && pub.offset === offset + 1) {
        offset = pub.offset;
        this.sendBuffered(subscriber, pub);
      } else {
        subscriber.member.resubscribe(subscriber.channel);
        return;
      }
    }
  }

  private sendBuffered(subscriber: Subscriber, pub: ServerPublication): void {
    subscriber.member.sendShared(this.frameOf(pub));
    subscriber.flow?.sent(pub);
  }

  remove(subscriber: Subscriber): void {
    if (subscriber.removed) return;
    subscriber.removed = true;
    subscriber.flow?.stop();
    const entry = this.channels.get(subscriber.channel);
    if (!entry || !entry.delete(subscriber)) return;
    if (subscriber.wantsDelta) entry.deltaSubscribers--;
    if (entry.size === 0) {
      this.channels.delete(subscriber.channel);
      this.occupied(subscriber.channel, false);
      void this.broker.unsubscribe(subscriber.channel).catch(() => {});
    }
  }

  subscriberCount(channel: string): number {
    return this.channels.get(channel)?.size ?? 0;
  }

  channelList(): Array<{ channel: string; subscribers: number }> {
    return [...this.channels].map(([channel, e]) => ({ channel, subscribers: e.size }));
  }

  get channelCount(): number {
    return this.channels.size;
  }

  private entryFor(channel: string): ChannelEntry {
    let entry = this.channels.get(channel);
    if (!entry) {
      const ready = this.broker.subscribe(channel);
      entry = new ChannelEntry(ready);
      this.channels.set(channel, entry);
      this.occupied(channel, true);
      // A failed engine subscribe is reported through `prepare`; forget the entry so the next one retries.
      ready.catch(() => {
        if (this.channels.get(channel) !== entry) return;
        this.channels.delete(channel);
        this.occupied(channel, false);
      });
    }
    return entry;
  }

  private occupied(channel: string, present: boolean): void {
    if (this.events.active) this.events.emit({ kind: 'channel', channel, present });
  }

  // ------------------------------------------------------------ engine events

  onPublication(pub: ServerPublication): void {
    const entry = this.channels.get(pub.channel);
    if (!entry) return;
    if (pub.offset !== 0) {
      const seq = this.sequence(entry, pub);
      if (seq === 'stale') return;
      if (seq === 'gap') return this.resync(entry, pub);
    }
    const frame = this.frameOf(pub);
    const prev = entry.last;
    let delta: SharedFrame | undefined;
    // The previous publication is only a delta base: a channel without delta subscribers holds none.
    if (entry.deltaSubscribers > 0) {
      delta = this.deltaFrameOf(entry, pub, frame);
      entry.last = pub;
    } else {
      entry.lastCanonical = undefined;
      entry.last = undefined;
    }
    this.publications++;
    this.countChannel(pub.channel);
    const { one, many } = entry;
    this.deliveries += entry.size;
    if (one) this.deliver(one, pub, frame, delta, prev);
    else if (many) for (const s of many) this.deliver(s, pub, frame, delta, prev);
  }

  private deliver(s: Subscriber, pub: ServerPublication, frame: SharedFrame, delta: SharedFrame | undefined, prev: ServerPublication | undefined): void {
    if (s.buffer) s.buffer.push(pub);
    else if (s.flow) s.flow.offer(pub, frame, delta, prev);
    else s.member.sendShared(frame);
  }

  /**
   * The delta frame from the channel's previous publication to `pub`, encoded
   * once for every delta subscriber; undefined when there is no base yet or
   * the delta would not be smaller than the full frame.
   */
  private deltaFrameOf(entry: ChannelEntry, pub: ServerPublication, full: SharedFrame): SharedFrame | undefined {
    const base = entry.lastCanonical;
    let next: string | undefined;
    try {
      next = canonicalJson(JSON.parse(pub.data));
    } catch {
      next = undefined; // not JSON text (a foreign engine writer): send it in full
    }
    entry.lastCanonical = next;
    if (base === undefined || next === undefined) return undefined;
    const json = encodeDeltaPub(pub, makeDelta(base, next));
    return json.length < full.json.length ? new SharedFrame(json, pub.offset > 0 ? pub : undefined) : undefined;
  }

  /** Where `pub` stands against the channel's last fanned-out position. */
  private sequence(entry: ChannelEntry, pub: ServerPublication): 'next' | 'stale' | 'gap' {
    const known = entry.offset !== 0;
    if (known && pub.epoch === entry.epoch && pub.offset <= entry.offset) return 'stale';
    const next = !known || (pub.epoch === entry.epoch && pub.offset === entry.offset + 1);
    entry.offset = pub.offset;
    entry.epoch = pub.epoch;
    return next ? 'next' : 'gap';
  }

  /**
   * The engine skipped publications or changed epoch: rather than deliver a
   * stream with a hole, every live subscriber resubscribes from its own
   * position (recovering, or learning `recovered: false`). Subscribers still
   * preparing see the publication in their buffer and decide in `activate`.
   */
  private resync(entry: ChannelEntry, pub: ServerPublication): void {
    for (const s of entry.toArray()) {
      if (s.buffer) s.buffer.push(pub);
      else s.member.resubscribe(s.channel);
    }
  }

  private frameOf(pub: ServerPublication): SharedFrame {
    // The position lets SSE streams put it in their event ids without parsing.
    return new SharedFrame(encodePub(pub), pub.offset > 0 ? pub : undefined);
  }

  onResync(channel: string): void {
    const entry = this.channels.get(channel);
    if (!entry) return;
    entry.offset = 0;
    entry.epoch = '';
    for (const s of entry.toArray()) if (!s.buffer) s.member.resubscribe(s.channel);
  }

  onJoin(channel: string, info: PresenceEntry): void {
    this.broadcastEvent(channel, encodePresenceEvent('join', channel, info), info.client);
  }

  onLeave(channel: string, info: PresenceEntry): void {
    this.broadcastEvent(channel, encodePresenceEvent('leave', channel, info), info.client);
  }

  /** A signal's frame goes to every live subscriber but its sender's connection. */
  onSignal(channel: string, from: string, frameJson: string): void {
    this.broadcastEvent(channel, frameJson, from);
  }

  private broadcastEvent(channel: string, json: string, except: string): void {
    const entry = this.channels.get(channel);
    if (!entry) return;
    const frame = new SharedFrame(json);
    // Like the fan-out loop: straight over the bag, no snapshot per event (a Set tolerates deletes while iterated).
    const { one, many } = entry;
    if (one) sendEvent(one, frame, except);
    else if (many) for (const s of many) sendEvent(s, frame, except);
  }

  onControl(msg: ControlMessage): void {
    if (msg.kind === 'disconnectUser') {
      for (const m of this.users.get(msg.user)?.toArray() ?? []) m.disconnect(msg.code, msg.reason);
    } else if (msg.kind === 'unsubscribeUser') {
      for (const m of this.users.get(msg.user)?.toArray() ?? []) m.unsubscribe(msg.channel, 'unsubscribed by server');
    }
    for (const listener of this.controlListeners) listener(msg);
  }
}

/** An event outside the stream (join, leave, signal): to a live subscriber, never to the connection it came from. */
function sendEvent(s: Subscriber, frame: SharedFrame, except: string): void {
  if (!s.buffer && s.member.id !== except) s.member.sendShared(frame);
}
