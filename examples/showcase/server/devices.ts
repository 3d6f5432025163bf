/**
 * Seed 004: one user, several devices. The mood widget is app state (SQLite)
 * broadcast on `devices:#<user>`; notifications go to the user's personal
 * channel (POST /api/user/publish), which every connection of that user
 * receives, and are kept here for a device that could not recover them.
 */
import type { Broadcaster } from './broadcaster.js';
import type { Mood, Store } from './db.js';
import { HttpError, text } from './http.js';

export const devicesChannel = (user: string) => `devices:#${user}`;
export const MOODS = ['focused', 'in a meeting', 'on a break', 'away'] as const;

export interface Notification {
  id: string;
  title: string;
  body: string;
  from: string;
  at: number;
}

const KEPT_NOTIFICATIONS = 50;

export class Devices {
  private readonly notifications = new Map<string, Notification[]>();
  private seq = 0;

  constructor(
    private readonly store: Store,
    private readonly broadcaster: Broadcaster,
  ) {}

  mood(user: string): Mood | null {
    return this.store.mood(user);
  }

  async setMood(user: string, body: unknown): Promise<Mood> {
    const mood = text(body, 'mood', 40);
    if (!(MOODS as readonly string[]).includes(mood)) throw new HttpError(400, `mood: one of ${MOODS.join(', ')}`);
    const note = typeof (body as { note?: unknown }).note === 'string' ? (body as { note: string }).note.slice(0, 120) : '';
    const record: Mood = { mood, note, device: text(body, 'device', 40), at: Date.now() };
    this.store.setMood(user, record);
    await this.broadcaster.publish(devicesChannel(user), { type: 'mood', ...record });
    return record;
  }

  list(user: string): Notification[] {
    return this.notifications.get(user) ?? [];
  }

  async notify(user: string, body: unknown): Promise<Notification> {
    const n: Notification = { id: `n${++this.seq}`, title: text(body, 'title', 80), body: text(body, 'body', 280), from: text(body, 'device', 40), at: Date.now() };
    const list = [...this.list(user), n].slice(-KEPT_NOTIFICATIONS);
    this.notifications.set(user, list);
    await this.broadcaster.toUser(user, { type: 'notification', notification: n });
    return n;
  }
}
