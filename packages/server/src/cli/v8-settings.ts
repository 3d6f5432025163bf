/**
 * The V8 settings `tidings serve` applies at start. Each is left alone when
 * node's own flags choose it, and each can be set after start: the heap
 * settings are read by V8 at every collection, the tier-up budget whenever a
 * function gets its feedback, which is lazy.
 *
 * Heap growth: how far the old generation may grow between full
 * collections. V8 picks the next full collection's limit from how fast its
 * collections ran, and starts marking before it is reached: in a node holding
 * ten thousand connections that limit came to little more than what was kept,
 * and it started a full collection every few seconds under a steady publish
 * rate, because each young-generation collection promotes the requests still
 * in flight. On the core the node runs on, each of those stopped the event
 * loop long enough to set the p99 far below the node's CPU limit. With room
 * for 3× what was kept, the same load passes without one (bench/RESULTS.md,
 * "what stalls the many-channels p99").
 *
 * Pretenuring off: V8 moves an allocation site's objects straight to the old
 * generation once it sees most of them survive a young collection. After the
 * young collections that V8 runs back to back when a large amount of external
 * memory appears at once (a step of history memory, engine/broker-memory-arena.ts),
 * the node's per-request objects, which die within a millisecond, went on
 * being allocated old, and every young collection and every publication cost
 * more for the rest of the process's life. With pretenuring off that did not
 * happen (bench/RESULTS.md, "why pretenuring is off").
 *
 * Tier-up budget: how much bytecode a function runs in V8's interpreter and
 * baseline code before it is considered for optimizing. A gateway's work is
 * a few paths run thousands of times a second (connect, publish, fan-out),
 * and its hardest minute is the first one after a restart, when every client
 * reconnects to a node whose code is all cold: with a quarter of V8's default
 * budget a function is marked for optimizing after about a quarter as many
 * calls, so a cold node spends less CPU per connect in that storm
 * (bench/RESULTS.md, "the connect storm's cold start").
 */
import { setFlagsFromString } from 'node:v8';

/** The next limit is (1 + this / 100) × the heap a full collection kept. */
export const HEAP_GROWING_PERCENT = 200;

/** Set `flag` unless one of node's own flags matches `given`; true when set. */
function unlessGiven(flags: readonly string[], given: RegExp, flag: string): boolean {
  if (flags.some((f) => given.test(f))) return false;
  setFlagsFromString(flag);
  return true;
}

export function setHeapGrowth(flags: readonly string[] = process.execArgv): boolean {
  return unlessGiven(flags, /^--heap[-_]growing[-_]percent\b/, `--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

export function turnOffPretenuring(flags: readonly string[] = process.execArgv): boolean {
  return unlessGiven(flags, /^--(no-)?allocation[-_]site[-_]pretenuring\b/, '--no-allocation-site-pretenuring');
}

/** A quarter of V8's default `--interrupt-budget` (67,584 bytes of bytecode run). */
export const TIER_UP_BUDGET = 16_384;

export function setTierUpBudget(flags: readonly string[] = process.execArgv): boolean {
  return unlessGiven(flags, /^--interrupt[-_]budget(=|$)/, `--interrupt-budget=${TIER_UP_BUDGET}`);
}
