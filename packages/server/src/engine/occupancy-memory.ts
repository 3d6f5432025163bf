/** Occupancy in this process: one node, so a share is held or not, and nothing expires. Contract: occupancy.ts. */
import type { JoinResult, OccupancyStore, Share } from './occupancy.js';

export class MemoryOccupancy implements OccupancyStore {
  private readonly held = new Set<string>();
  /** One clock for every share: increasing across all of them is increasing for each. */
  private lastSeq = 0;
  onExpired?: (share: Share, seq: number) => void;
  onLost?: (share: Share) => void;

  async join(share: Share): Promise<JoinResult> {
    const key = keyOf(share);
    if (this.held.has(key)) return { vacatedFirst: false, occupied: false, seq: 0 };
    this.held.add(key);
    return { vacatedFirst: false, occupied: true, seq: this.nextSeq() };
  }

  async leave(share: Share): Promise<number> {
    return this.held.delete(keyOf(share)) ? this.nextSeq() : 0;
  }

  /** Nothing expires in one process, so nothing is ever lost to rejoin. */
  async rejoin(): Promise<undefined> {
    return undefined;
  }

  private nextSeq(): number {
    this.lastSeq = Math.max(Date.now() * 1000, this.lastSeq + 1);
    return this.lastSeq;
  }
}

function keyOf(share: Share): string {
  return share.user === undefined ? share.channel : `${share.channel}\u0000${share.user}`;
}
