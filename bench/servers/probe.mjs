/**
 * Preloaded into every server under test (`node --expose-gc --import
 * probe.mjs …`), so memory is read the same way for all of them without
 * touching their code: on SIGUSR2, collect garbage and print one line
 * `BENCH_PROBE {rss, heapUsed, heapTotal, external, arrayBuffers, snapshot?}` on stderr. With
 * BENCH_HEAP_DIR set, it also writes a heap snapshot there (slow: seconds).
 */
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';

let n = 0;
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  const dir = process.env.BENCH_HEAP_DIR;
  const snapshot = dir ? writeHeapSnapshot(join(dir, `${process.pid}-${n++}.heapsnapshot`)) : undefined;
  process.stderr.write(`BENCH_PROBE ${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, snapshot })}\n`);
});
