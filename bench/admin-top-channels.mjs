// The admin dashboard's per-publication cost: TopChannels.count (one call per publication fanned out).
// Usage: node bench/admin-top-channels.mjs   (after npm run build)
import { TopChannels } from '../packages/server/dist/admin/top-channels.js';

const N = 2_000_000;
const CAPACITY = 40; // 4 × admin.topChannels (default 10)

function run(label, channelOf) {
  const names = Array.from({ length: 100_000 }, (_, i) => `room:${i}`);
  const top = new TopChannels(CAPACITY);
  for (let i = 0; i < 100_000; i++) top.count(channelOf(names, i)); // warm-up
  top.take(10);
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) top.count(channelOf(names, i));
  const ns = Number(process.hrtime.bigint() - start) / N;
  top.take(10);
  console.log(`${label.padEnd(52)} ${ns.toFixed(1)} ns per publication`);
}

run('10 busy channels (all in the table)', (n, i) => n[i % 10]);
run('30 busy channels + 1 in 10 to 100k others', (n, i) => (i % 10 === 0 ? n[(i * 7919) % 100_000] : n[i % 30]));
run('every publication on a new channel (worst case)', (n, i) => n[i % 100_000]);
