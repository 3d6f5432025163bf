/**
 * One connection's ephemeral signals: their own rate limit (a token bucket on
 * top of the command rate, so typing cannot crowd out commands), and the
 * keyed signals it holds ("typing"), each with the deadline at which the
 * server clears it. Made on the first signal: most connections never send one.
 */
import { refill } from './token-bucket.js';

export interface SignalLimits {
  /** Signals per second, and the burst allowed. */
  rate: number;
  burst: number;
  /** Keyed signals held at once. */
  maxKeys: number;
}

/** No deadline. */
const NONE = -1;

export class SignalKeys {
  /** `channel\nkey` → deadline on the node's wheel clock. */
  private readonly due = new Map<string, number>();
  /** The signal budget (token-bucket.ts). */
  milliTokens: number;

  constructor(
    private readonly limits: SignalLimits,
    public lastRefill: number,
  ) {
    this.milliTokens = limits.burst * 1000;
  }

  /** Take one signal from the budget; false when it is spent. */
  admit(now: number): boolean {
    refill(this, now, this.limits.rate, this.limits.burst);
    if (this.milliTokens < 1000) return false;
    this.milliTokens -= 1000;
    return true;
  }

  /** Hold `key` on `channel` until `until`; false when that would pass `maxKeys`. */
  hold(channel: string, key: string, until: number): boolean {
    const k = `${channel}\n${key}`;
    if (!this.due.has(k) && this.due.size >= this.limits.maxKeys) return false;
    this.due.set(k, until);
    return true;
  }

  /** Stop holding `key`; whether it was held. */
  release(channel: string, key: string): boolean {
    return this.due.delete(`${channel}\n${key}`);
  }

  /** Forget every key held on `channel` and return them. */
  takeChannel(channel: string): string[] {
    const keys: string[] = [];
    for (const k of this.due.keys()) {
      const nl = k.indexOf('\n');
      if (k.slice(0, nl) !== channel) continue;
      this.due.delete(k);
      keys.push(k.slice(nl + 1));
    }
    return keys;
  }

  /** Forget every key whose deadline has passed and return them as [channel, key]. */
  takeExpired(now: number): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (const [k, at] of this.due) {
      if (at > now) continue;
      this.due.delete(k);
      const nl = k.indexOf('\n');
      out.push([k.slice(0, nl), k.slice(nl + 1)]);
    }
    return out;
  }

  /** The earliest deadline held, or -1. */
  next(): number {
    let first = NONE;
    for (const at of this.due.values()) if (first === NONE || at < first) first = at;
    return first;
  }
}
