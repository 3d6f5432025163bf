/**
 * Retry delays: doubling from `minMs` up to `maxMs`, each drawn at random
 * from its upper half ("equal jitter"), so endpoints coming back are not hit
 * by every node at the same instant.
 */
export function retryDelay(failures: number, minMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(Math.max(0, failures - 1), 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
