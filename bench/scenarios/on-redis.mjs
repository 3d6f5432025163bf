/**
 * A scenario against one Tidings node on the Redis engine (issue 15): a real
 * redis-server on 127.0.0.1, pinned by default to core 1 with the generator,
 * so the node has core 0 to itself, as in the memory-engine run it is
 * compared with, and Redis is a server of its own, as deployed
 * (`--redis-core 0` puts it on the node's core, where the two share one
 * core's CPU). scale-out.mjs's helpers; no CPU caps. Rows
 * are `tidings-redis`, with Redis's own CPU per step (from /proc) and the
 * publications delivered per Redis core: delivered pub/s ÷ (Redis CPU s / wall s).
 *
 * `onRedis(base, {title, publicationsPerDelivery})` turns a scenario module
 * with `runOne` (fan-out, many channels) into one that runs on Redis.
 */
import { startRedis } from '../lib/redis.mjs';
import { procStats } from '../lib/sys.mjs';
import { startNodes } from './scale-out.mjs';

const KIND = 'tidings-redis';
let runs = 0;

/** The node as the generator and the meter see it; Redis's CPU reported apart (engineStats). */
function redisBacked(node, redis) {
  return { kind: KIND, target: node.target, protocol: node.protocol, pid: node.pid, stats: () => node.stats(), engineStats: () => procStats(redis.pid) };
}

/** Publications/s per Redis core, or null when Redis used (next to) no CPU. */
const perRedisCore = (pubsPerSec, redisCpu) => (redisCpu > 0 ? Math.round(pubsPerSec / (redisCpu / 100)) : null);

/** The capacity line: pub/s per Redis core at the passing step that delivered most. */
function bestPerCore(steps, k) {
  const best = steps.filter((s) => s.ok).sort((a, b) => b.achieved - a.achieved)[0];
  return best ? perRedisCore(best.achieved * k, best.engineCpu) : null;
}

/**
 * @param {{runOne: Function, columns: Array, rowsOf: Function}} base
 * @param {{title: string, publicationsPerDelivery: (params: object) => number}} o
 *   how many publications one delivery stands for (fan-out: 1 / subscribers)
 */
export function onRedis(base, { title, publicationsPerDelivery }) {
  async function runAll(opts) {
    const redis = await startRedis({ cpu: opts.redisCore ?? 1 });
    try {
      const [node] = await startNodes(1, redis.url, `r${++runs}:`);
      try {
        const r = await base.runOne(redisBacked(node, redis), opts);
        return { servers: { [KIND]: { ...r, perRedisCore: bestPerCore(r.steps, publicationsPerDelivery(opts)) } } };
      } finally {
        await node.stop();
      }
    } finally {
      await redis.stop();
    }
  }
  const columns = [...base.columns.slice(0, -1), ['engineCpu', 'Redis CPU%'], ['perRedisCore', 'pub/s per Redis core'], base.columns.at(-1)];
  const rowsOf = (result) => {
    const k = publicationsPerDelivery(result.params);
    return base.rowsOf(result).map((r) => (r.achieved === undefined ? r : { ...r, perRedisCore: perRedisCore(r.achieved * k, r.engineCpu) }));
  };
  return { title, only: ['tidings'], runAll, columns, rowsOf };
}
