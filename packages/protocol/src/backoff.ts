/**
 * Exponential backoff with full jitter: a random delay in
 * [min, min(max, min·2^attempt)], so a crowd of clients cut at once spreads
 * its reconnects instead of arriving together.
 */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(minMs + random() * Math.max(0, ceiling - minMs));
}
