/**
 * Tidings benchmark suite (issue 5). Starts each server under test as its own
 * process on core 0, drives it from this process on core 1 with the raw-TCP
 * generator, prints a table per scenario and writes JSON, a Markdown summary
 * and the fan-out latency chart under bench/results/.
 *
 *   node bench/run.mjs [--long | --quick] [--only fanout,fanoutredis,channels,channelsbatch,writefloor,channelsredis,idle,connect,recovery,polling,scaleout,scaleoutcluster]
 *                      [--servers tidings,socketio,ws,ws-coalesce] [--profile] [--heap]
 *                      [--gateways host:port,host:port] [--no-pin] [--quiet-wait S] [--out DIR]
 *                      [--node-cores 0.3]   (scale-out: CPU budget per node; 0 = uncapped)
 *                      [--redis-core 1]     (fanoutredis, channelsredis: redis-server on the generator's core 1, or 0 with the node)
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { signTokens } from './lib/auth.mjs';
import { nofileLimit, pin, waitQuiet } from './lib/sys.mjs';
import { AB_ONLY, SERVERS, launch } from './servers/launch.mjs';
import { tidings as tidingsProtocol } from './generator/protocols.mjs';
import * as fanout from './scenarios/fanout.mjs';
import * as channels from './scenarios/channels.mjs';
import * as channelsBatch from './scenarios/channels-batch.mjs';
import * as writeFloor from './scenarios/write-floor.mjs';
import { onRedis } from './scenarios/on-redis.mjs';
import * as idle from './scenarios/idle-memory.mjs';
import * as connectStorm from './scenarios/connect-storm.mjs';
import * as recovery from './scenarios/recovery.mjs';
import * as polling from './scenarios/polling.mjs';
import * as scaleOut from './scenarios/scale-out.mjs';
import * as scaleOutCluster from './scenarios/scale-out-cluster.mjs';
import { markdownTable, textTable } from './report/table.mjs';
import { fanoutSvg, writeChart } from './report/chart.mjs';
import { checkTargets, checkTargets15, columns as targetColumns } from './report/targets.mjs';
import { formatSummary, summarise } from './report/profile.mjs';

const { values: o } = parseArgs({
  options: {
    long: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    only: { type: 'string', default: 'fanout,fanoutredis,channels,channelsbatch,writefloor,channelsredis,idle,connect,recovery,polling,scaleout' },
    servers: { type: 'string', default: Object.keys(SERVERS).filter((k) => !AB_ONLY.has(k)).join(',') },
    profile: { type: 'boolean', default: false },
    heap: { type: 'boolean', default: false },
    gateways: { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
    'quiet-wait': { type: 'string', default: '30' },
    'node-cores': { type: 'string', default: '0.3' },
    /** Where fanoutredis/channelsredis pin redis-server: 1 = the generator's core (a server of its own), 0 = the node's core. */
    'redis-core': { type: 'string', default: '1' },
    out: { type: 'string', default: resolve(import.meta.dirname, 'results') },
  },
});

const long = o.long;
const fdLimit = nofileLimit();
const log = (s) => console.log(s);

/** The short run's value, --long's, or --quick's (a smoke check: tiny loads, two steps). */
const pick = (short, longer, quick = short) => (o.quick ? quick : long ? longer : short);

const fanoutParams = {
  subscribers: pick(2000, 2000, 200),
  steps: pick(
    // Up to 8 M: the coalescing ws server passed 4.8 M, and Tidings 6.4 M once its outboxes shared one joined buffer.
    [20e3, 50e3, 100e3, 200e3, 400e3, 600e3, 800e3, 1.2e6, 1.6e6, 2.4e6, 3.2e6, 4e6, 4.8e6, 5.6e6, 6.4e6, 7.2e6, 8e6],
    [20e3, 50e3, 100e3, 150e3, 200e3, 300e3, 400e3, 600e3, 800e3, 1e6, 1.2e6, 1.6e6, 2e6, 2.4e6, 3.2e6, 4e6, 4.8e6, 5.6e6, 6.4e6, 7.2e6, 8e6],
    [2e3, 5e3],
  ),
  stepSeconds: pick(3, 10, 1),
  p99Limit: 50,
  /** Bisection steps after the first failure (lib/meter.mjs, climbLadder). */
  refine: pick(2, 3, 0),
};
const channelsParams = {
  connections: pick(10_000, 10_000, 1000),
  // Past 32 k: on a fast hour Tidings and both bare ws servers passed 32 k, and a ladder they all pass cannot rank them.
  rates: pick([1e3, 2e3, 4e3, 8e3, 16e3, 32e3, 64e3], [1e3, 2e3, 4e3, 6e3, 8e3, 12e3, 16e3, 24e3, 32e3, 48e3, 64e3], [1e3, 2e3]),
  stepSeconds: pick(2, 10, 1),
  p99Limit: 50,
  refine: pick(2, 3, 0),
};
/** Issue 15 wants batches at 5× ws's single-publish ceiling: the same ladder, continued past 64 k. */
const batchRates = [...channelsParams.rates, ...pick([128e3], [96e3, 128e3, 160e3], [4e3])];

/** Scenario parameters: the short run (`npm run bench`), --long and --quick. */
const PLANS = {
  fanout: { module: fanout, params: fanoutParams },
  fanoutredis: {
    module: onRedis(fanout, { title: 'Fan-out: one channel, one Tidings node on Redis', publicationsPerDelivery: (p) => 1 / p.subscribers }),
    params: { ...fanoutParams, redisCore: Number(o['redis-core']) },
  },
  channels: { module: channels, params: channelsParams },
  channelsbatch: { module: channelsBatch, params: { ...channelsParams, rates: batchRates, batch: 100 } },
  // What one write to a distinct loopback socket costs this host: the ceiling of the many-channels scenarios (report/targets.mjs).
  writefloor: { module: writeFloor, params: { sockets: channelsParams.connections, writes: pick(400_000, 1_000_000, 20_000), size: 250, rounds: pick(3, 3, 1) } },
  channelsredis: {
    module: onRedis(channels, { title: 'Many channels: one subscriber per channel, one Tidings node on Redis', publicationsPerDelivery: () => 1 }),
    params: { ...channelsParams, redisCore: Number(o['redis-core']) },
  },
  idle: {
    module: idle,
    params: { requested: [5000, 20_000, 50_000], levels: idle.reachableLevels([5000, 20_000, 50_000], fdLimit), settleMs: long ? 5000 : 1000, fdLimit },
  },
  connect: { module: connectStorm, params: { connections: long ? Math.min(19_000, fdLimit - 400) : 5000, window: 500, rounds: pick(3, 3, 1) } },
  recovery: { module: recovery, params: { clients: 5000, missed: 100, jitters: [0, 500] } },
  scaleout: {
    module: scaleOut,
    params: {
      connections: 10_000,
      // Finer than the many-channels ladder (×1.25): the ratio of two ceilings is only as good as the steps.
      rates: Array.from({ length: long ? 22 : 18 }, (_, i) => Math.round(400 * 1.25 ** i)),
      stepSeconds: long ? 5 : 2,
      p99Limit: 50,
      nodeCores: Number(o['node-cores']),
      capacitySeconds: long ? 8 : 4,
    },
  },
  // On Redis Cluster (`--only scaleoutcluster`; not in the default run): 1, 2, 3 nodes, the scale-out plan.
  scaleoutcluster: {
    module: scaleOutCluster,
    params: {
      connections: 10_000,
      rates: Array.from({ length: long ? 22 : 18 }, (_, i) => Math.round(400 * 1.25 ** i)),
      stepSeconds: long ? 5 : 2,
      p99Limit: 50,
      nodeCores: Number(o['node-cores']),
      capacitySeconds: long ? 8 : 4,
    },
  },
  polling: { module: polling, params: { watchers: long ? 200 : 50, seconds: long ? 120 : 20, pollMs: 2000, updateMinMs: 1000, updateMaxMs: 5000 } },
};

async function runScenario(name, plan, tokens, profileDir) {
  const { module: m, params } = plan;
  if (m.runAll) {
    // Scenarios that start their own servers (scale-out: Redis and several nodes).
    log(`\n== ${m.title}`);
    if (!o.servers.split(',').includes('tidings')) return { scenario: name, title: m.title, params, servers: {} };
    await waitQuiet({ log, timeoutMs: o['quiet-wait'] * 1000 });
    try {
      return { scenario: name, title: m.title, params, ...(await m.runAll({ ...params, tokens, log, quietWaitMs: o['quiet-wait'] * 1000 })) };
    } catch (err) {
      log(`  ${err.stack ?? err}`);
      return { scenario: name, title: m.title, params, servers: { tidings: { error: String(err.message ?? err) } } };
    }
  }
  const kinds = o.servers.split(',').filter((k) => !m.only || m.only.includes(k));
  const result = { scenario: name, title: m.title, params, servers: {} };
  log(`\n== ${m.title} (${kinds.join(', ')})`);
  /** One run of the scenario on a fresh server of `kind`. */
  const runOn = async (kind) => {
    let server;
    try {
      await waitQuiet({ log, timeoutMs: o['quiet-wait'] * 1000 });
      const heapDir = o.heap && name === 'idle' ? join(o.out, 'heap') : undefined;
      if (heapDir) mkdirSync(heapDir, { recursive: true });
      server = await launch(kind, { profileDir: kind === 'tidings' ? profileDir?.(name) : undefined, env: heapDir ? { BENCH_HEAP_DIR: heapDir } : {} });
      return await m.runOne(server, { ...params, tokens, log, out: o.out, heap: Boolean(heapDir), quietWaitMs: o['quiet-wait'] * 1000 });
    } catch (err) {
      log(`  ${kind}: ${err.stack ?? err}`);
      return { error: String(err.message ?? err) };
    } finally {
      await server?.stop();
    }
  };
  // `params.rounds` > 1: the servers take turns, round after round, and the scenario's fromRounds makes each server's row.
  const rounds = params.rounds ?? 1;
  const runs = Object.fromEntries(kinds.map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    if (rounds > 1) log(`  round ${r + 1} of ${rounds}`);
    for (const kind of kinds) runs[kind].push(await runOn(kind));
  }
  for (const kind of kinds) result.servers[kind] = rounds > 1 ? m.fromRounds(runs[kind]) : runs[kind][0];
  // REDIS HOOK: the many-channels scenario also runs against externally started gateways (e.g. two nodes on Redis).
  if (name === 'channels' && o.gateways) {
    const targets = o.gateways.split(',').map((a) => ({ host: a.split(':')[0], port: Number(a.split(':')[1]) }));
    const group = { kind: `tidings×${targets.length}`, targets, protocol: tidingsProtocol, stats: () => ({ cpuMs: 0, rss: 0 }) };
    try {
      result.servers[group.kind] = await m.runOne(group, { ...params, tokens, log });
    } catch (err) {
      result.servers[group.kind] = { error: String(err.message ?? err) };
    }
  }
  return result;
}

function environment() {
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    nofile: fdLimit,
    pinned: !o['no-pin'],
    command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  };
}

async function main() {
  if (!o['no-pin'] && !pin(process.pid, 1)) log('warning: taskset failed; generator not pinned');
  mkdirSync(o.out, { recursive: true });
  const names = o.only.split(',');
  const tokens = await signTokens(Math.max(20_000, ...names.map((n) => PLANS[n]?.params.connections ?? 0)));
  const profileRoot = o.profile ? join(o.out, 'profiles') : null;
  const profileDir = profileRoot ? (name) => join(profileRoot, name) : null;
  const env = environment();
  log(`Tidings bench: ${env.node}, ${env.cores} × ${env.cpu}, nofile ${env.nofile}${long ? ', long run' : ''}`);
  const results = {};
  const md = [`# Benchmark results\n`, `\`${env.command}\` — ${env.date}, Node ${env.node}, ${env.cores} × ${env.cpu}; servers on core 0, generator on core 1.\n`];
  for (const name of names) {
    const plan = PLANS[name];
    if (!plan) throw new Error(`unknown scenario ${name}`);
    const result = await runScenario(name, plan, tokens, profileDir);
    result.environment = env;
    results[name] = result;
    const rows = plan.module.rowsOf(result);
    log(`\n${textTable(plan.module.columns, rows)}`);
    writeFileSync(join(o.out, `${name}.json`), JSON.stringify(result, null, 2));
    md.push(`## ${plan.module.title}\n\n${markdownTable(plan.module.columns, rows)}\n`);
    if (name === 'fanout') {
      const png = await writeChart(fanoutSvg(result), join(o.out, 'fanout-latency'));
      if (png) md.push(`![fan-out latency](fanout-latency.png)\n`);
    }
  }
  for (const [issue, check] of [[5, checkTargets], [15, checkTargets15]]) {
    const targets = check(results);
    log(`\n== Targets (issue ${issue})\n${textTable(targetColumns, targets)}`);
    md.push(`## Targets (issue ${issue})\n\n${markdownTable(targetColumns, targets)}\n`);
  }
  if (profileRoot) md.push(...profileSummaries(profileRoot));
  writeFileSync(join(o.out, 'summary.md'), md.join('\n'));
  log(`\nresults in ${o.out}`);
}

/** Summaries of the gateway's CPU profiles, one per scenario. */
function profileSummaries(root) {
  const out = [];
  for (const dir of readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const file of readdirSync(join(root, dir.name)).filter((f) => f.endsWith('.cpuprofile'))) {
      const text = formatSummary(summarise(JSON.parse(readFileSync(join(root, dir.name, file), 'utf8')), 25));
      writeFileSync(join(root, dir.name, `${file}.txt`), text);
      out.push(`## CPU profile of the gateway: ${dir.name}\n\n\`\`\`\n${text}\n\`\`\`\n`);
    }
  }
  return out;
}

await main();
process.exit(0);
