/**
 * Scenario 4, connect storm: N new connections, `window` handshakes in flight,
 * each TCP connect + WebSocket upgrade + one authenticating command carrying
 * a distinct HS256 JWT, until the server's reply. Connects per second, and the
 * time each connect took.
 *
 * Each storm meets a fresh (cold) server, and one storm is a few seconds of a
 * machine whose speed drifts from minute to minute: `rounds` storms per
 * server, alternating between the servers, and each server's row is its
 * median round (every round's rate is in the `rounds` column).
 */
import { closeAll, openPool } from '../generator/pool.mjs';
import { DeliverySink } from '../generator/sink.mjs';
import { startMeter } from '../lib/meter.mjs';
import { waitQuiet } from '../lib/sys.mjs';
import { launch } from '../servers/launch.mjs';

export const title = 'Connect storm (JWT verified per connect)';

export async function runOne(server, opts) {
  const { connections, window, tokens } = opts;
  const meter = startMeter(server);
  const pool = await openPool({ targets: [server.target], protocol: server.protocol, sink: new DeliverySink(), count: connections, tokens, window, timeoutMs: 60_000 });
  const m = meter();
  await closeAll(pool.conns);
  const t = pool.connectTimes.summary();
  opts.log(`  ${server.kind}: ${Math.round(pool.rate)} connects/s, p99 ${t.p99} ms`);
  return { opened: pool.opened, failed: pool.failed, errors: pool.errors, connectsPerSec: Math.round(pool.rate), p50: t.p50, p99: t.p99, serverCpu: m.serverCpu, genCpu: m.genCpu };
}

/** One storm on a fresh server of `kind`. */
async function stormOn(kind, opts) {
  await waitQuiet({ log: opts.log, timeoutMs: opts.quietWaitMs });
  const server = await launch(kind);
  try {
    return await runOne(server, opts);
  } catch (err) {
    opts.log(`  ${kind}: ${err.stack ?? err}`);
    return { error: String(err.message ?? err) };
  } finally {
    await server.stop();
  }
}

/** The round with the median rate; a server with a failed round reports that failure. */
function medianRound(results) {
  const failed = results.find((r) => r.error);
  if (failed) return failed;
  const sorted = [...results].sort((a, b) => a.connectsPerSec - b.connectsPerSec);
  return { ...sorted[Math.floor(sorted.length / 2)], rounds: results.map((r) => r.connectsPerSec) };
}

/** `opts.kinds`: the servers, in the order each round visits them. */
export async function runAll(opts) {
  const { kinds, rounds } = opts;
  const results = Object.fromEntries(kinds.map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    opts.log(`  round ${r + 1} of ${rounds}`);
    for (const kind of kinds) results[kind].push(await stormOn(kind, opts));
  }
  return { servers: Object.fromEntries(kinds.map((k) => [k, medianRound(results[k])])) };
}

export const columns = [
  ['server', 'server'],
  ['opened', 'connected'],
  ['failed', 'failed'],
  ['connectsPerSec', 'connects/s'],
  ['p50', 'p50 ms'],
  ['p99', 'p99 ms'],
  ['serverCpu', 'server CPU%'],
  ['genCpu', 'gen CPU%'],
  ['rounds', 'each round, connects/s'],
];

export function rowsOf(result) {
  return Object.entries(result.servers).map(([server, r]) => ({ server, ...r, rounds: r.rounds?.map((n) => n.toLocaleString('en-US')).join(' / ') }));
}
