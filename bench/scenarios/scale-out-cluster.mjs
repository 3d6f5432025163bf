/**
 * Scale-out on Redis Cluster: the scale-out workload (scale-out.mjs: many
 * channels, one subscriber each, HTTP API publications, each node under the
 * same CPU budget) against one, two and three Tidings nodes on a 3-primary
 * Redis Cluster started here. Channels spread over the primaries' slots;
 * each publication is one script and one SPUBLISH on its slot's primary.
 */
import { capCpu } from '../lib/cpu-cap.mjs';
import { startRedisCluster } from '../lib/redis.mjs';
import { procStats, sleep } from '../lib/sys.mjs';
import { launch } from '../servers/launch.mjs';
import * as channels from './channels.mjs';

export const title = 'Scale-out on Redis Cluster: one, two, three Tidings nodes (many channels)';
export const only = ['tidings'];

async function startNodes(count, cluster, prefix) {
  const args = ['--engine', 'redis', '--redis-url', `redis://${cluster.nodes[0]}`];
  const env = { TIDINGS_REDIS_PREFIX: prefix, TIDINGS_REDIS_CLUSTER_NODES: cluster.nodes.join(',') };
  const nodes = [];
  for (let i = 0; i < count; i++) nodes.push(await launch('tidings', { args, env }));
  return nodes;
}

function group(nodes, cluster) {
  return {
    kind: `tidings×${nodes.length}`,
    targets: nodes.map((n) => n.target),
    protocol: nodes[0].protocol,
    stats: () => [...nodes.map((n) => n.stats()), ...cluster.pids.map((pid) => procStats(pid))].reduce((a, b) => ({ cpuMs: a.cpuMs + b.cpuMs, rss: a.rss + b.rss })),
  };
}

async function measure(count, cluster, opts) {
  const nodes = await startNodes(count, cluster, `soc${count}:`);
  const caps = [];
  try {
    const afterConnect = () => {
      if (opts.nodeCores > 0) for (const n of nodes) caps.push(capCpu(n.pid, opts.nodeCores));
    };
    const r = await channels.runOne(group(nodes, cluster), { ...opts, afterConnect });
    return { nodes: count, capped: caps.length > 0 && caps.every(Boolean), ...r };
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    for (const c of caps) c?.release();
  }
}

export async function runAll(opts) {
  const cluster = await startRedisCluster({ cpu: 0 });
  try {
    const servers = {};
    for (const count of [1, 2, 3]) {
      servers[`tidings×${count}`] = await measure(count, cluster, opts);
      await sleep(1000);
    }
    const base = servers['tidings×1'].capacity?.perSecond;
    const ratio = (r) => (base && r.capacity?.perSecond ? Math.round((r.capacity.perSecond / base) * 100) / 100 : null);
    return {
      servers,
      ratio2: ratio(servers['tidings×2']),
      ratio3: ratio(servers['tidings×3']),
      capped: Object.values(servers).every((r) => r.capped),
    };
  } finally {
    await cluster.stop();
  }
}

export const columns = channels.columns;

export function rowsOf(result) {
  const capacityRows = Object.entries(result.servers)
    .filter(([, r]) => r.capacity)
    .map(([server, r]) => ({ server, offered: 'closed loop, 128 in flight', achieved: r.capacity.perSecond, serverCpu: r.capacity.serverCpu, genCpu: r.capacity.genCpu, otherCpu: r.capacity.otherCpu, verdict: 'capacity' }));
  return [...channels.rowsOf(result), ...capacityRows];
}
