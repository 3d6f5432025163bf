/**
 * Both halves of a typing indicator on one channel.
 *
 * Sending: setTyping(true) sends a keyed signal at most once per `throttle`
 * ms (each send pushes the server's expiry `ttl` further out, so a user who
 * keeps typing stays shown); setTyping(false) clears it at once. A tab that
 * closes mid-word is cleared by the server (the sender left) or by the ttl.
 *
 * Receiving: one entry per sending connection, removed on `cleared`, and by
 * a local timer at ttl plus a margin in case the clear was missed while
 * reconnecting. Everything is dropped when the subscription is lost.
 */
import type { ClientInfo, Signal, Subscription } from '@tidings/client';

export interface TypingOptions {
  /** Signal key (default 'typing'). */
  key?: string;
  /** ms the server keeps a typing signal that is not renewed (default 5000). */
  ttl?: number;
  /** Minimum ms between two sends while typing (default 2000; keep it under ttl). */
  throttle?: number;
}

const MISSED_CLEAR_MARGIN = 1000;

export class TypingTracker {
  private readonly key: string;
  private readonly ttl: number;
  private readonly throttle: number;
  private readonly entries = new Map<string, { info: ClientInfo; timer: ReturnType<typeof setTimeout> }>();
  private lastSent = 0;
  private readonly offs: Array<() => void>;
  private list: ClientInfo[] = [];
  private userList: string[] = [];

  constructor(
    private readonly sub: Subscription<unknown>,
    options: TypingOptions,
    /** Called once per change, with the typists and their user ids (each once, in the order they started). */
    private readonly onChange: (typists: ClientInfo[], users: string[]) => void,
  ) {
    this.key = options.key ?? 'typing';
    this.ttl = options.ttl ?? 5000;
    this.throttle = Math.min(options.throttle ?? 2000, this.ttl);
    this.offs = [
      sub.on('signal', (signal) => this.onSignal(signal)),
      sub.on('subscribing', () => this.clearAll()),
      sub.on('unsubscribed', () => this.clearAll()),
    ];
  }

  get typists(): ClientInfo[] {
    return this.list;
  }

  /** User ids of the typists, each once; a new array only when the list changed. */
  get users(): string[] {
    return this.userList;
  }

  setTyping(typing: boolean): void {
    const now = Date.now();
    if (typing) {
      if (now - this.lastSent < this.throttle) return;
      if (this.send({ typing: true }, { key: this.key, ttl: this.ttl })) this.lastSent = now;
    } else if (this.lastSent && now - this.lastSent < this.ttl) {
      this.lastSent = 0;
      this.send(null, { key: this.key });
    } else this.lastSent = 0;
  }

  dispose(): void {
    this.setTyping(false);
    this.offs.forEach((off) => off());
    for (const t of this.entries.values()) clearTimeout(t.timer);
    this.entries.clear();
  }

  /** Signals need a live subscription; while there is none, typing is simply not shown. */
  private send(data: unknown, options: { key: string; ttl?: number }): boolean {
    if (this.sub.state !== 'subscribed') return false;
    this.sub
      .signal(data, options)
      .catch(() => {
        // Rate limited or the connection dropped: the next keystroke sends again.
        this.lastSent = 0;
      });
    return true;
  }

  private onSignal(signal: Signal): void {
    // Without a sender (a signal from the HTTP API) there is no one to show as typing.
    if (signal.key !== this.key || !signal.info) return;
    const { info } = signal;
    const id = info.client;
    const known = this.entries.get(id);
    if (known) clearTimeout(known.timer);
    if (signal.cleared || signal.data === null) {
      this.entries.delete(id);
    } else {
      const timer = setTimeout(() => this.expire(id), (signal.ttl ?? this.ttl) + MISSED_CLEAR_MARGIN);
      this.entries.set(id, { info, timer });
    }
    this.publish();
  }

  private expire(id: string): void {
    this.entries.delete(id);
    this.publish();
  }

  private clearAll(): void {
    for (const t of this.entries.values()) clearTimeout(t.timer);
    this.entries.clear();
    this.publish();
  }

  private publish(): void {
    const next = [...this.entries.values()].map((t) => t.info);
    if (next.length === this.list.length && next.every((m, i) => m === this.list[i])) return;
    this.list = next;
    this.userList = [...new Set(next.map((t) => t.user))];
    this.onChange(next, this.userList);
  }
}
