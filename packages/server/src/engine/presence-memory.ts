/** Presence in this process: entries die with it, so no TTL is needed. Contract: presence.ts. */
import type { PresenceEntry } from '@tidings/protocol';
import type { PresenceStore } from './presence.js';

export class MemoryPresence implements PresenceStore {
  private readonly channels = new Map<string, Map<string, PresenceEntry>>();

  async add(channel: string, entry: PresenceEntry): Promise<void> {
    let set = this.channels.get(channel);
    if (!set) this.channels.set(channel, (set = new Map()));
    set.set(entry.client, entry);
  }

  async remove(channel: string, client: string): Promise<void> {
    const set = this.channels.get(channel);
    if (!set) return;
    set.delete(client);
    if (set.size === 0) this.channels.delete(channel);
  }

  async list(channel: string): Promise<PresenceEntry[]> {
    return [...(this.channels.get(channel)?.values() ?? [])];
  }
}
