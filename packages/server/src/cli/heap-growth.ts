/**
 * How far the old generation may grow between full collections, for
 * `tidings serve`.
 *
 * V8 picks the next full collection's limit from how fast its collections
 * ran, and starts marking before it is reached: in a node holding ten
 * thousand connections the limit came to 1.4× what was kept (60 → 84 MB), and
 * it started a full collection every few seconds under
 * a steady publish rate, because each young-generation collection promotes
 * the requests still in flight. On the core the node runs on, each of those
 * stopped the event loop for 100 ms or more, which set the p99 far below the
 * node's CPU limit. With room for 3× what was kept, the same load passes
 * without one (bench/RESULTS.md). The limit is read at every collection, so
 * it can be set after start; a `--heap-growing-percent` in node's own flags
 * wins.
 */
import { setFlagsFromString } from 'node:v8';

/** The next limit is (1 + this / 100) × the heap a full collection kept. */
export const HEAP_GROWING_PERCENT = 200;

/** Apply the growth unless node's flags set one; true when applied. */
export function setHeapGrowth(flags: readonly string[] = process.execArgv): boolean {
  if (flags.some((f) => /^--heap[-_]growing[-_]percent\b/.test(f))) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
