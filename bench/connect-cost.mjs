/**
 * What one connect costs each server, in CPU time rather than connects/s:
 * a connect storm's rate on a 2-core box moves with whatever else runs and
 * with how warm the JIT is, while the CPU a server spends per connect does
 * not move much. Each round launches a fresh server, opens a warm-up pool and
 * closes it, then opens N connections (TCP + WebSocket upgrade + one
 * authenticating command with a distinct HS256 JWT, `window` in flight) and
 * divides the server process's CPU time (utime + stime from /proc) by the
 * connections opened. Rounds alternate between the servers; the median per
 * server is reported.
 *
 * Usage: node bench/connect-cost.mjs [--servers tidings,ws] [--connections 5000]
 *        [--window 500] [--rounds 3] [--warm-up 2000] [--profile DIR]
 *
 * `--warm-up 0` measures a cold server, as the storm of bench/run.mjs does
 * (and as a fleet of clients reconnecting after a restart meets it).
 */
import { parseArgs } from 'node:util';
import { closeAll, openPool } from './generator/pool.mjs';
import { DeliverySink } from './generator/sink.mjs';
import { signTokens } from './lib/auth.mjs';
import { sleep } from './lib/sys.mjs';
import { alternateRounds } from './lib/rounds.mjs';
import { launch } from './servers/launch.mjs';

const { values: o } = parseArgs({
  options: {
    servers: { type: 'string', default: 'tidings,ws' },
    connections: { type: 'string', default: '5000' },
    window: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '3' },
    'warm-up': { type: 'string', default: '2000' },
    /** Write a CPU profile of each server's round into this folder. */
    profile: { type: 'string' },
  },
});
const connections = Number(o.connections);
const WARM_UP = Number(o['warm-up']);

async function open(server, tokens, count) {
  const pool = await openPool({ targets: [server.target], protocol: server.protocol, sink: new DeliverySink(), count, tokens, window: Number(o.window), timeoutMs: 120_000 });
  if (pool.failed) throw new Error(`${server.kind}: ${pool.failed} connections failed: ${JSON.stringify(pool.errors)}`);
  return pool;
}

/** One round on a fresh server: CPU µs per connect, and the storm's rate. */
async function round(kind, tokens) {
  const server = await launch(kind, { profileDir: o.profile });
  let pool;
  try {
    if (WARM_UP > 0) {
      await closeAll((await open(server, tokens.warm, WARM_UP)).conns);
      await sleep(2000); // the warm-up's closes and garbage settle before measuring
    }
    const before = server.stats().cpuMs;
    pool = await open(server, tokens.storm, connections);
    const cpuMs = server.stats().cpuMs - before;
    return { cpuUsPerConnect: (cpuMs * 1000) / pool.opened, rate: pool.rate };
  } finally {
    if (pool) await closeAll(pool.conns);
    await server.stop();
  }
}

const tokens = { warm: await signTokens(WARM_UP, 'w'), storm: await signTokens(connections) };
await alternateRounds(o.servers.split(','), Number(o.rounds), async (kind) => {
  const s = await round(kind, tokens);
  return { value: s.cpuUsPerConnect, line: `${s.cpuUsPerConnect.toFixed(1)} µs CPU per connect (${Math.round(s.rate)} connects/s)` };
}, 'CPU µs per connect');
