/**
 * Occupancy: which nodes hold a share of a channel (it has local subscribers
 * there) or of a channel's member (a user's connections there), so the first
 * share anywhere reads as "occupied" and the last one gone as "vacated".
 *
 * Contract every occupancy store keeps (test/webhooks-engine.test.ts checks it):
 * - Callers report only their node's own transitions: `join` when the node's
 *   first local holder arrives, `leave` when its last one goes. Calls for one
 *   share are made in order (the caller serializes them).
 * - `join` resolves `occupied: true` exactly when no node held the share
 *   before; `vacatedFirst: true` when the shares found were all expired (the
 *   nodes holding them died), so that vacancy is reported before the new
 *   occupancy. `leave` resolves non-zero exactly when no node holds it any more.
 *   Across all nodes, each share alternates occupied, vacated, occupied…
 * - A node's shares live while it runs and expire a TTL after it stops
 *   refreshing them; an expired share whose loss empties its key is handed to
 *   `onExpired` on exactly one node (none is reported twice).
 * - A node that stalls past the TTL is taken for dead: its shares expire and
 *   are reported as above, though it still holds them. When it finds one of
 *   its shares gone, it hands it to `onLost` (the caller queues a `rejoin`
 *   behind that share's other calls), so every vacancy is followed by an
 *   occupancy again and the reports converge on what is true.
 * - Shares nobody holds cost nothing.
 */

/** A channel (`user` undefined) or one user on a channel. */
export interface Share {
  channel: string;
  user?: string;
}

export interface JoinResult {
  /** Every previous holder had expired: report a vacancy first (its seq is `seq - 1`). */
  vacatedFirst: boolean;
  /** No live node held the share: this is the first one anywhere. */
  occupied: boolean;
  /** When `occupied`: the transition's sequence number (see below); 0 otherwise. */
  seq: number;
}

/**
 * Every transition of a share (occupied, vacated) gets a sequence number,
 * decided in the same atomic step, higher than any earlier transition of that
 * share on any node (microseconds of the store's clock, bumped when equal). Two
 * nodes may queue their events in the opposite order; the numbers say which
 * came first.
 */
export interface OccupancyStore {
  join(share: Share): Promise<JoinResult>;
  /** The vacancy's sequence number when this was the last holder anywhere; 0 otherwise. */
  leave(share: Share): Promise<number>;
  /**
   * Join again a share of this node's that expired while the node still held it
   * (see `onLost`); undefined when the node has left it since, so nothing changed.
   */
  rejoin(share: Share): Promise<JoinResult | undefined>;
  /** Shares vacated because the nodes holding them stopped refreshing them. */
  onExpired?: (share: Share, seq: number) => void;
  /** This node's own shares found expired while it still holds them (it stalled past the TTL). */
  onLost?: (share: Share) => void;
}
