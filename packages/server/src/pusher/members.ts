/**
 * One socket's view of a presence channel's members. Pusher counts users,
 * Tidings' presence counts connections: a user is added with their first
 * connection and removed with their last, so `member_added` and
 * `member_removed` fire once per user, whichever node the connections are on.
 */
import type { PresenceEntry } from '@tidings/protocol';

/** Connections of one user tracked per channel; more are not needed to tell first from last. */
const MAX_CLIENTS_PER_USER = 256;

interface Member {
  readonly clients: Set<string>;
  info: unknown;
}

export class Members {
  private readonly users = new Map<string, Member>();

  constructor(private readonly maxUsers: number) {}

  /** Record a connection; true when its user is new here (and fits under the member limit). */
  add(entry: PresenceEntry): boolean {
    const known = this.users.get(entry.user);
    if (known) {
      if (known.clients.size < MAX_CLIENTS_PER_USER) known.clients.add(entry.client);
      return false;
    }
    if (this.users.size >= this.maxUsers) return false;
    this.users.set(entry.user, { clients: new Set([entry.client]), info: entry.info });
    return true;
  }

  /** Forget a connection; true when it was its user's last. */
  remove(entry: PresenceEntry): boolean {
    const known = this.users.get(entry.user);
    if (!known || !known.clients.delete(entry.client)) return false;
    if (known.clients.size > 0) return false;
    this.users.delete(entry.user);
    return true;
  }

  get count(): number {
    return this.users.size;
  }

  /** `pusher_internal:subscription_succeeded`'s presence object. */
  toJson(): string {
    const ids: string[] = [];
    const hash: Record<string, unknown> = {};
    for (const [id, m] of this.users) {
      ids.push(id);
      hash[id] = m.info ?? {};
    }
    return JSON.stringify({ presence: { ids, hash, count: ids.length } });
  }
}

/** Distinct users among presence entries. */
export function distinctUsers(entries: readonly PresenceEntry[]): number {
  return new Set(entries.map((e) => e.user)).size;
}
