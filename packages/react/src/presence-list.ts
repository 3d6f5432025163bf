/**
 * The live member list of a channel: a presence() snapshot taken on every
 * (re)subscribe, with join/leave events on top. Events that arrive while the
 * snapshot is on its way are replayed onto it in order (a join it already
 * has changes nothing; a leave removes), so none is lost. Members are keyed
 * by client id: one entry per connection, in order of arrival.
 */
import type { PresenceEntry, PresenceEvent, Subscription } from '@tidings/client';

type Change = { type: 'join' | 'leave'; info: PresenceEntry };

export class PresenceList {
  private members = new Map<string, PresenceEntry>();
  private list: PresenceEntry[] = [];
  /** Non-null while a presence() call is in flight. */
  private pending: Change[] | null = null;
  private generation = 0;
  private disposed = false;
  private readonly offs: Array<() => void>;

  constructor(
    private readonly sub: Subscription<unknown>,
    private readonly onChange: (members: PresenceEntry[]) => void,
    private readonly onError: (err: Error) => void,
  ) {
    this.offs = [
      sub.on('subscribed', () => this.refresh()),
      sub.on('join', (e) => this.onEvent('join', e)),
      sub.on('leave', (e) => this.onEvent('leave', e)),
    ];
    if (sub.state === 'subscribed') queueMicrotask(() => this.refresh());
  }

  get current(): PresenceEntry[] {
    return this.list;
  }

  dispose(): void {
    this.disposed = true;
    this.generation++;
    this.offs.forEach((off) => off());
  }

  private refresh(): void {
    if (this.disposed) return;
    const generation = ++this.generation;
    this.pending = [];
    this.sub.presence().then(
      (result) => {
        if (generation !== this.generation) return;
        const changes = this.pending ?? [];
        this.pending = null;
        this.members = new Map(result.clients.map((c) => [c.client, c]));
        for (const c of changes) this.change(c);
        this.publish();
      },
      (err: unknown) => {
        if (generation !== this.generation) return;
        const changes = this.pending ?? [];
        this.pending = null;
        for (const c of changes) this.change(c);
        this.publish();
        this.onError(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  private onEvent(type: Change['type'], e: PresenceEvent): void {
    const c = { type, info: e.info };
    if (this.pending) return void this.pending.push(c);
    this.change(c);
    this.publish();
  }

  private change({ type, info }: Change): void {
    if (type === 'join') {
      if (!this.members.has(info.client)) this.members.set(info.client, info);
    } else this.members.delete(info.client);
  }

  private publish(): void {
    const next = [...this.members.values()];
    if (next.length === this.list.length && next.every((m, i) => m === this.list[i])) return;
    this.list = next;
    if (!this.disposed) this.onChange(next);
  }
}
