/**
 * Scale-out: the many-channels workload (one subscriber per channel, HTTP
 * API publications at a rising rate) against one Tidings node on Redis, then
 * two, on a real redis-server started here. Connections and publications are
 * spread round-robin over the nodes, so a publication often enters on one node
 * and is delivered by the other, through Redis.
 *
 * This machine has two cores, shared by the nodes, Redis and the generator,
 * so a second node brings no CPU of its own. To measure what a node adds, each
 * node gets the same CPU budget (`nodeCores` of a core, a CFS quota), as if
 * each ran on a small machine of its own; Redis and the generator are not
 * capped. The caps are set once the connections are in. Two figures per
 * setup: the rate ladder's highest step with p99 ≤ 50 ms and no loss, and the
 * capacity with 128 publications in flight (closed loop), which the verdict
 * uses: on this shared VM the ladder's ceiling moves with every p99 spike. Where cgroups are not
 * writable, the nodes run uncapped and the result says so: that ratio says
 * nothing about separate machines.
 */
import { capCpu } from '../lib/cpu-cap.mjs';
import { startRedis } from '../lib/redis.mjs';
import { procStats, sleep } from '../lib/sys.mjs';
import { launch } from '../servers/launch.mjs';
import * as channels from './channels.mjs';

export const title = 'Scale-out: one vs two Tidings nodes on Redis (many channels)';
/** Runs Tidings only, and starts its own servers. */
export const only = ['tidings'];

/** Launch `count` nodes on `redisUrl`, all on core 0, with their own key prefix per run. */
export async function startNodes(count, redisUrl, prefix) {
  const args = ['--engine', 'redis', '--redis-url', redisUrl];
  const nodes = [];
  for (let i = 0; i < count; i++) nodes.push(await launch('tidings', { args, env: { TIDINGS_REDIS_PREFIX: prefix } }));
  return nodes;
}

/** The nodes and Redis seen as one system under test by the generator and the CPU meter. */
function group(nodes, redis) {
  return {
    kind: `tidings×${nodes.length}`,
    targets: nodes.map((n) => n.target),
    protocol: nodes[0].protocol,
    stats: () => [...nodes.map((n) => n.stats()), procStats(redis.pid)].reduce((a, b) => ({ cpuMs: a.cpuMs + b.cpuMs, rss: a.rss + b.rss })),
  };
}

async function measure(count, redis, opts) {
  const nodes = await startNodes(count, redis.url, `so${count}:`);
  const caps = [];
  try {
    const afterConnect = () => {
      if (opts.nodeCores > 0) for (const n of nodes) caps.push(capCpu(n.pid, opts.nodeCores));
    };
    const r = await channels.runOne(group(nodes, redis), { ...opts, afterConnect });
    return { nodes: count, capped: caps.length > 0 && caps.every(Boolean), ...r };
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    for (const c of caps) c?.release();
  }
}

/** One node, then two; the ratio of their highest sustained rates. */
export async function runAll(opts) {
  const redis = await startRedis({ cpu: 0 });
  try {
    const one = await measure(1, redis, opts);
    await sleep(1000);
    const two = await measure(2, redis, opts);
    const ratio = (a, b) => (a && b ? Math.round((b / a) * 100) / 100 : null);
    return {
      servers: { 'tidings×1': one, 'tidings×2': two },
      // Capacity (closed loop) is the verdict: the ladder's ceiling is set by p99 spikes as much as by CPU.
      ratio: ratio(one.capacity?.perSecond, two.capacity?.perSecond),
      ladderRatio: ratio(one.maxSustained, two.maxSustained),
      capped: one.capped && two.capped,
    };
  } finally {
    await redis.stop();
  }
}

export const columns = channels.columns;

export function rowsOf(result) {
  const capacityRows = Object.entries(result.servers)
    .filter(([, r]) => r.capacity)
    .map(([server, r]) => ({ server, offered: 'closed loop, 128 in flight', achieved: r.capacity.perSecond, serverCpu: r.capacity.serverCpu, genCpu: r.capacity.genCpu, otherCpu: r.capacity.otherCpu, verdict: 'capacity' }));
  return [...channels.rowsOf(result), ...capacityRows];
}
