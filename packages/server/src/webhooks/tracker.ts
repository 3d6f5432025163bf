/**
 * Turns the node's local facts (event bus) into cluster-wide webhook events.
 * This node's first subscriber of a channel, or first connection of a user on
 * a presence channel, becomes a share in the engine's occupancy store; the
 * store answers whether it was the first anywhere ("occupied", "added") and,
 * on the last local one leaving, whether it was the last anywhere.
 *
 * Everything about one channel runs through one promise chain, so its events
 * come out in the order they happened on this node.
 */
import type { JoinResult, OccupancyStore, Share } from '../engine/occupancy.js';
import type { NodeEvent } from '../events/bus.js';
import type { TrackedEventName, WebhookEvent } from './event.js';

export interface TrackerOptions {
  occupancy: OccupancyStore;
  /** Which events some endpoint wants (others cost nothing). */
  wanted: ReadonlySet<TrackedEventName>;
  emit: (event: WebhookEvent) => void;
  /** An event could not be decided (the engine failed): counted and logged. */
  lost: (name: TrackedEventName, err: Error) => void;
}

export class Tracker {
  /** Local connections per (channel, user) on presence channels. */
  private readonly members = new Map<string, number>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly channels: boolean;
  private readonly users: boolean;

  constructor(private readonly opts: TrackerOptions) {
    const { wanted } = opts;
    this.channels = wanted.has('channel_occupied') || wanted.has('channel_vacated');
    this.users = wanted.has('member_added') || wanted.has('member_removed');
    opts.occupancy.onExpired = (share, seq) => this.then(share.channel, namesOf(share).end, async () => this.vacated(share, seq));
    opts.occupancy.onLost = (share) => this.then(share.channel, namesOf(share).start, async () => this.occupied(share, await opts.occupancy.rejoin(share)));
  }

  onEvent(e: NodeEvent): void {
    switch (e.kind) {
      case 'channel':
        if (this.channels) this.share({ channel: e.channel }, e.present);
        return;
      case 'presence':
        if (this.users) this.member(e.channel, e.user, e.present);
        return;
      case 'publication':
        return this.then(e.channel, 'client_publication', async () => this.emit({ name: 'client_publication', channel: e.channel, user: e.user, client: e.client, data: e.data }));
      case 'signal':
        return this.then(e.channel, 'client_signal', async () => this.emit({ name: 'client_signal', channel: e.channel, user: e.user, client: e.client, data: e.data }));
      case 'connection':
        return this.emit({ name: e.present ? 'user_connected' : 'user_disconnected', user: e.user, client: e.client });
    }
  }

  /** Resolves once every queued step has run (graceful shutdown). */
  async settled(): Promise<void> {
    while (this.chains.size > 0) await Promise.allSettled([...this.chains.values()]);
  }

  /** Per user, as Pusher does: a user's second connection on a channel is not a new member. */
  private member(channel: string, user: string, present: boolean): void {
    const key = `${channel}\u0000${user}`;
    const before = this.members.get(key) ?? 0;
    const after = Math.max(0, before + (present ? 1 : -1));
    if (after === 0) this.members.delete(key);
    else this.members.set(key, after);
    if (before === 0 && after === 1) this.share({ channel, user }, true);
    else if (before === 1 && after === 0) this.share({ channel, user }, false);
  }

  private share(share: Share, present: boolean): void {
    const { occupancy } = this.opts;
    const names = namesOf(share);
    this.then(share.channel, present ? names.start : names.end, async () => {
      if (!present) {
        const seq = await occupancy.leave(share);
        if (seq) this.vacated(share, seq);
        return;
      }
      this.occupied(share, await occupancy.join(share));
    });
  }

  private occupied(share: Share, joined: JoinResult | undefined): void {
    if (!joined) return;
    const { vacatedFirst, occupied, seq } = joined;
    if (vacatedFirst) this.vacated(share, seq - 1);
    if (occupied) this.emit({ name: namesOf(share).start, channel: share.channel, user: share.user, seq });
  }

  private vacated(share: Share, seq: number): void {
    this.emit({ name: namesOf(share).end, channel: share.channel, user: share.user, seq });
  }

  private emit(event: WebhookEvent): void {
    if (this.opts.wanted.has(event.name)) this.opts.emit(event);
  }

  /** Run `step` after every earlier step of `channel`; a failure loses the event `what`. */
  private then(channel: string, what: TrackedEventName, step: () => Promise<void>): void {
    const prev = this.chains.get(channel);
    const next = (prev ? prev.then(step) : step()).catch((err: Error) => this.opts.lost(what, err));
    this.chains.set(channel, next);
    void next.then(() => {
      if (this.chains.get(channel) === next) this.chains.delete(channel);
    });
  }
}

/** The events that start and end a share. */
function namesOf(share: Share): { start: TrackedEventName; end: TrackedEventName } {
  return share.user === undefined ? { start: 'channel_occupied', end: 'channel_vacated' } : { start: 'member_added', end: 'member_removed' };
}
