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

/**
 * Diagnostics, off unless asked for:
 * - BENCH_LAG=1: print `LAG <seconds since start> <ms>` to stdout whenever the
 *   event loop stalled for more than 30 ms (a 10 ms timer came late);
 * - BENCH_HEAPPROF=from,to (seconds since start): a sampling heap profile of
 *   what was allocated in that window and reached the old generation (kept by
 *   full collections too), written to /tmp/heapprof-<pid>.json; with
 *   BENCH_HEAPPROF_MINOR=1 also what died young (all allocation).
 */
if (process.env.BENCH_LAG) {
  const t0 = performance.now();
  let last = t0;
  setInterval(() => {
    const now = performance.now();
    if (now - last > 40) process.stdout.write(`LAG ${((now - t0) / 1000).toFixed(2)}s ${(now - last - 10).toFixed(0)}ms\n`);
    last = now;
  }, 10).unref();
}
if (process.env.BENCH_HEAPPROF) {
  const [from, to] = process.env.BENCH_HEAPPROF.split(',').map(Number);
  const { Session } = await import('node:inspector');
  const { writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  const options = { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: process.env.BENCH_HEAPPROF_MINOR === '1' };
  setTimeout(() => session.post('HeapProfiler.startSampling', options), from * 1000).unref();
  setTimeout(() => session.post('HeapProfiler.stopSampling', (err, r) => !err && writeFileSync(`/tmp/heapprof-${process.pid}.json`, JSON.stringify(r.profile))), to * 1000).unref();
}
