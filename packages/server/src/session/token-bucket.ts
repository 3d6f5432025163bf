/**
 * The token bucket behind a connection's command and signal rate limits.
 * The state lives on its owner as two small integers (thousandths of a token,
 * and the wheel-clock time of the last refill), not in an object of its own,
 * because every idle connection carries one.
 */

export interface Bucket {
  milliTokens: number;
  lastRefill: number;
}

/** Add what `rate` tokens per second earned since the last refill, up to `burst`. */
export function refill(b: Bucket, now: number, rate: number, burst: number): void {
  b.milliTokens = Math.min(burst * 1000, b.milliTokens + Math.floor((now - b.lastRefill) * rate));
  b.lastRefill = now;
}
