/**
 * Scenario 1, fan-out: one channel, N subscribers, 200-byte payloads. The
 * publication rate steps up until p99 passes the limit or anything is lost;
 * the result is the highest sustained deliveries/s with zero loss, and
 * p50/p99 at each step. A server that falls behind may cut slow subscribers
 * (Tidings closes them with 3008). Before the next step, the generator waits
 * for the last step's deliveries to stop arriving (DeliverySink.settle), then
 * opens the cut ones again and waits for the machine to go quiet, so every
 * step, a confirmation or a bisection after a failure included, starts quiet
 * with all N subscribers (`reopened` in its row).
 */
import { HttpPublisher } from '../generator/publisher.mjs';
import { closeAll, openPool } from '../generator/pool.mjs';
import { DeliverySink } from '../generator/sink.mjs';
import { API_KEY } from '../lib/auth.mjs';
import { climbLadder, startMeter, verdictOf } from '../lib/meter.mjs';
import { makePayload } from '../lib/payload.mjs';
import { waitFor, waitQuiet } from '../lib/sys.mjs';

export const title = 'Fan-out: one channel';

const CHANNEL = 'fan';
const body = (seq, us) => `{"channel":"${CHANNEL}","data":${makePayload(us, seq, 200)}}`;

/** One rate step: publish open-loop, wait for the deliveries, read latency and CPU. */
async function step({ server, pub, sink, subs, deliveries, seconds, p99Limit }) {
  const rate = deliveries / subs;
  sink.swap();
  const closedBefore = sink.closed;
  const meter = startMeter(server);
  const t0 = performance.now();
  const sent = await pub.run({ rate, count: Math.max(1, Math.round(rate * seconds)), makeBody: body });
  const expected = sent.sent * subs;
  await waitFor(() => sink.received >= expected || sink.closed > closedBefore, 3000, 5);
  const elapsed = (performance.now() - t0) / 1000;
  await pub.drain(3000);
  const m = meter();
  const { received, reads, hist } = sink.swap();
  const lat = hist.summary();
  const lost = Math.max(0, expected - received);
  const row = {
    offered: deliveries,
    achieved: Math.round(received / elapsed),
    p50: lat.p50,
    p99: lat.p99,
    max: lat.max,
    perRead: reads ? Math.round((received / reads) * 10) / 10 : null,
    lost,
    cut: sink.closed - closedBefore,
    pubErrors: pub.failed,
    serverCpu: m.serverCpu,
    engineCpu: m.engineCpu,
    genCpu: m.genCpu,
    otherCpu: m.otherCpu,
    pubLagMs: Math.round(sent.maxLagMs),
  };
  row.ok = lost === 0 && row.cut === 0 && pub.failed === 0 && !sent.overloaded && lat.p99 !== null && lat.p99 <= p99Limit;
  return row;
}

/** Run the rate ladder against one server. */
export async function runOne(server, opts) {
  const { subscribers, steps, stepSeconds, p99Limit, tokens } = opts;
  const sink = new DeliverySink();
  const open = (count, from) =>
    openPool({ targets: [server.target], protocol: server.protocol, sink, count, tokens: tokens.slice(from % tokens.length), channelOf: () => CHANNEL, sampleEvery: 4 });
  const pool = await open(subscribers, 0);
  if (pool.failed) throw new Error(`${server.kind}: ${pool.failed} subscribers failed: ${JSON.stringify(pool.errors)}`);
  const subs = { conns: pool.conns, opened: subscribers };
  const pub = new HttpPublisher({ endpoints: [server.target], apiKey: API_KEY });
  await pub.open();
  try {
    const runAt = async (deliveries, seconds = stepSeconds) => {
      await sink.settle();
      const reopened = await reopenCut(subs, open, server.kind);
      const row = await step({ server, pub, sink, subs: subscribers, deliveries, seconds, p99Limit });
      return reopened ? { ...row, reopened } : row;
    };
    const { rows, maxSustained } = await climbLadder(steps, runAt, { ...opts, name: server.kind, unit: '/s' });
    return { steps: rows, maxSustained, at50k: rows.find((r) => r.offered === 50_000) ?? null };
  } finally {
    pub.close();
    await closeAll(subs.conns);
  }
}

/** Open again, with fresh tokens, the subscribers the server cut; returns how many. */
async function reopenCut(subs, open, kind) {
  const live = subs.conns.filter((c) => c.state !== 'closed');
  const missing = subs.conns.length - live.length;
  if (missing === 0) return 0;
  const again = await open(missing, subs.opened);
  subs.opened += missing;
  if (again.failed) throw new Error(`${kind}: ${again.failed} of ${missing} cut subscribers could not reconnect: ${JSON.stringify(again.errors)}`);
  subs.conns = [...live, ...again.conns];
  // The connects and their subscriptions keep the server busy for a while: start the step once it is quiet, as after the first pool.
  await waitQuiet({ timeoutMs: 10_000 });
  return missing;
}

export const columns = [
  ['server', 'server'],
  ['offered', 'offered/s'],
  ['achieved', 'delivered/s'],
  ['p50', 'p50 ms'],
  ['p99', 'p99 ms'],
  ['max', 'max ms'],
  ['perRead', 'frames/read'],
  ['lost', 'lost'],
  ['cut', 'cut'],
  ['serverCpu', 'server CPU%'],
  ['genCpu', 'gen CPU%'],
  ['otherCpu', 'other CPU%'],
  ['verdict', ''],
];

export function rowsOf(result) {
  return Object.entries(result.servers).flatMap(([server, r]) =>
    r.error ? [{ server, verdict: `error: ${r.error}` }] : r.steps.map((s) => ({ server, ...s, verdict: verdictOf(s) })),
  );
}
