/**
 * What a full embedded history costs the garbage collector: 10,000 channels
 * (the many-channels pattern) with N publications each in their streams
 * (engine/broker-memory-stream.ts), then the median time of a full
 * collection and where the history's memory sits (JS heap or outside it,
 * and how much of the arena's reserved steps its blocks hold).
 * In-process, no sockets: it isolates the history from everything else.
 *
 * Usage: node --expose-gc bench/history-gc.mjs [--per-channel 20] [--channels 10000]
 */
import { parseArgs } from 'node:util';
import { HistoryArena } from '../packages/server/dist/engine/broker-memory-arena.js';
import { MemoryStream } from '../packages/server/dist/engine/broker-memory-stream.js';

const { values: o } = parseArgs({ options: { 'per-channel': { type: 'string', default: '20' }, channels: { type: 'string', default: '10000' } } });
if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
const perChannel = Number(o['per-channel']);
const channels = Number(o.channels);
const policy = { size: 1000, ttlMs: 600_000 };
// A job-status publication of about 200 bytes, like the benchmarks' payload.
const data = JSON.stringify({ job: 'x'.repeat(20), progress: 0.5, stage: 'transcribing', note: 'y'.repeat(120) });

const before = process.memoryUsage();
const arena = new HistoryArena();
const streams = Array.from({ length: channels }, () => new MemoryStream('ep', arena));
const now = Date.now();
for (let i = 0; i < perChannel; i++) {
  for (let c = 0; c < channels; c++) {
    const s = streams[c];
    s.append({ channel: `job:${c}`, offset: s.top + 1, epoch: 'ep', data, time: now }, policy, now);
  }
}
globalThis.gc();
const times = [];
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  globalThis.gc();
  times.push(performance.now() - t);
}
const after = process.memoryUsage();
if (streams.reduce((n, s) => n + s.size, 0) !== channels * perChannel) throw new Error('history lost entries');
const mb = (n) => (n / 2 ** 20).toFixed(1);
times.sort((a, b) => a - b);
console.log(
  `${channels} channels × ${perChannel} publications: full collection ${times[2].toFixed(1)} ms (median of 5); ` +
    `JS heap +${mb(after.heapUsed - before.heapUsed)} MB, outside the heap +${mb(after.external - before.external)} MB ` +
    `(history blocks held ${mb(arena.usage.held)} MB of ${mb(arena.usage.reserved)} MB reserved; RSS +${mb(after.rss - before.rss)} MB)`,
);
