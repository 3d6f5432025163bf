/**
 * What `engine.redis.waitReplicas` costs: publishes through the Redis broker
 * on a primary with one replica (both started here, loopback), without WAIT
 * and with WAIT 1. Sequential latency (mean, p50, p99) and the rate with 64
 * publishes in flight.
 * Usage: node bench/redis-wait.mjs [--count 3000]
 */
import { parseArgs } from 'node:util';
import { RedisEngine } from '@tidings/server';
import { startRedis } from './lib/redis.mjs';

const { values } = parseArgs({ options: { count: { type: 'string', default: '3000' } } });
const COUNT = Number(values.count);
const history = { size: 1000, ttlMs: 600_000 };
const handler = { onPublication() {}, onResync() {}, onJoin() {}, onLeave() {}, onSignal() {}, onControl() {} };

async function run(url, waitReplicas) {
  const engine = new RedisEngine({ url, prefix: `w${waitReplicas}:`, waitReplicas, waitTimeoutMs: 1000 });
  await engine.start(handler);
  const times = [];
  for (let i = 0; i < COUNT; i++) {
    const t0 = process.hrtime.bigint();
    await engine.broker.publish(`seq${i % 100}`, '{"n":1}', { history });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  const t0 = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < COUNT) await engine.broker.publish(`par${next++ % 100}`, '{"n":1}', { history });
  }));
  const rate = Math.round(COUNT / ((Date.now() - t0) / 1000));
  await engine.close();
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(3);
  return { waitReplicas, meanMs: (times.reduce((a, b) => a + b, 0) / times.length).toFixed(3), p50Ms: at(0.5), p99Ms: at(0.99), inFlight64PerSecond: rate };
}

const primary = await startRedis();
const replica = await startRedis();
try {
  const { Redis } = await import('ioredis');
  const r = new Redis(replica.url);
  await r.replicaof('127.0.0.1', Number(new URL(primary.url).port));
  for (let i = 0; i < 100 && !(await r.info('replication')).includes('master_link_status:up'); i++) await new Promise((res) => setTimeout(res, 100));
  r.disconnect();
  const rows = [await run(primary.url, 0), await run(primary.url, 1), await run(primary.url, 0), await run(primary.url, 1)];
  console.table(rows);
} finally {
  await primary.stop();
  await replica.stop();
}
