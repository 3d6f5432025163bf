/** Occupancy in this process: one node, so a share is held or not, and nothing expires. Contract: occupancy.ts. */
import type { JoinResult, OccupancyStore, Share } from './occupancy.js';

export class MemoryOccupancy implements OccupancyStore {
  private readonly held = new Set<string>();
  onExpired?: (share: Share) => void;

  async join(share: Share): Promise<JoinResult> {
    const key = keyOf(share);
    const occupied = !this.held.has(key);
    this.held.add(key);
    return { vacatedFirst: false, occupied };
  }

  async leave(share: Share): Promise<boolean> {
    return this.held.delete(keyOf(share));
  }
}

function keyOf(share: Share): string {
  return share.user === undefined ? share.channel : `${share.channel}\u0000${share.user}`;
}
