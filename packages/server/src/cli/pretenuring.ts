/**
 * Turn off V8's allocation-site pretenuring for `tidings serve`.
 *
 * V8 moves an allocation site's objects straight to the old generation once
 * it sees most of them survive a young collection. Young collections that
 * come back to back (external memory pressure: a step of history memory, a
 * burst of socket buffers) see everything survive, and V8 then pretenures
 * the node's per-request objects, which in fact die within a millisecond.
 * From then on each young collection scans the old objects that point at
 * young ones and promotes what they hold: in the publish-cost benchmark they
 * took about 12 ms instead of 1.3 ms, and the CPU per publication rose by a
 * fifth, for the rest of the process's life (bench/RESULTS.md). A gateway's
 * long-lived objects (sessions, subscriptions) are few and made at connect,
 * so it loses nothing by allocating everything young. Flags are read at each
 * collection, so this can be set after start; node's own
 * `--allocation-site-pretenuring` or `--no-allocation-site-pretenuring` wins.
 */
import { setFlagsFromString } from 'node:v8';

/** Turn pretenuring off unless node's flags say otherwise; true when applied. */
export function turnOffPretenuring(flags: readonly string[] = process.execArgv): boolean {
  if (flags.some((f) => /^--(no-)?allocation[-_]site[-_]pretenuring\b/.test(f))) return false;
  setFlagsFromString('--no-allocation-site-pretenuring');
  return true;
}
