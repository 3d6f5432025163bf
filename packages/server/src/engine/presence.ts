/**
 * The presence store: who is on a channel, across every node.
 *
 * Contract every presence store keeps (test/engine-contract.ts checks it):
 * - `add` records an entry under its client id (a second add replaces it);
 *   `remove` forgets it; `list` returns every live entry of the channel.
 * - Entries live until removed, or until their TTL passes without a refresh
 *   by the node that added them, so a dead node leaves no ghosts.
 * - A channel with no entries costs nothing.
 */
import type { PresenceEntry } from '@tidings/protocol';

export interface PresenceStore {
  add(channel: string, entry: PresenceEntry): Promise<void>;
  remove(channel: string, client: string): Promise<void>;
  list(channel: string): Promise<PresenceEntry[]>;
}
