/**
 * The node registry: which gateway nodes are alive, and what each says about
 * itself (shown by `GET /api/info`).
 *
 * Contract every registry keeps:
 * - `announce` records or refreshes this node's entry; nodes announce on a
 *   heartbeat.
 * - `list` returns every node whose last announcement is younger than the
 *   registry's TTL, this one included, sorted by id. A node that stopped
 *   announcing drops out by itself.
 */

/** What a node tells the others about itself. */
export interface NodeInfo {
  id: string;
  address: string;
  connections: number;
  users: number;
  channels: number;
  uptime: number;
  /** ms since the epoch when this was recorded. */
  updated: number;
}

export interface NodeRegistry {
  announce(node: NodeInfo): Promise<void>;
  list(): Promise<NodeInfo[]>;
}
