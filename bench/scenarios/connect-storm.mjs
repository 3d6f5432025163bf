/**
 * Scenario 4, connect storm: N new connections, `window` handshakes in flight,
 * each TCP connect + WebSocket upgrade + one authenticating command carrying
 * a distinct HS256 JWT, until the server's reply. Connects per second, and the
 * time each connect took.
 *
 * Each storm meets a fresh (cold) server, and one storm is a few seconds of a
 * machine whose speed drifts from minute to minute: run.mjs runs `rounds`
 * storms per server, alternating between the servers, and each server's row
 * is its median round (every round's rate is in the `rounds` column).
 */
import { closeAll, openPool } from '../generator/pool.mjs';
import { DeliverySink } from '../generator/sink.mjs';
import { startMeter } from '../lib/meter.mjs';

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

/** A server's row from its rounds (run.mjs alternates them): the median round; a failed round is reported as the row. */
export function fromRounds(results) {
  const failed = results.find((r) => r.error);
  if (failed) return failed;
  const sorted = [...results].sort((a, b) => a.connectsPerSec - b.connectsPerSec);
  return { ...sorted[Math.floor(sorted.length / 2)], rounds: results.map((r) => r.connectsPerSec) };
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
