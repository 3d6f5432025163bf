/**
 * Scenario 2, many channels: N connections, each on its own channel (the
 * job-progress pattern); publications through the HTTP API to channels in
 * turn, at a rising rate. One publication = one delivery, so this measures
 * the publish path (HTTP, engine, history) more than fan-out.
 *
 * `runOne` also takes a group of gateways (`server.targets`): connections and
 * publications are spread round-robin over them, so two nodes on Redis are
 * measured exactly like one (scale-out.mjs; run.mjs --gateways).
 */
import { HttpPublisher } from '../generator/publisher.mjs';
import { closeAll, openPool } from '../generator/pool.mjs';
import { DeliverySink } from '../generator/sink.mjs';
import { API_KEY } from '../lib/auth.mjs';
import { climbLadder, startMeter, verdictOf } from '../lib/meter.mjs';
import { makePayload } from '../lib/payload.mjs';
import { sleep, waitFor, waitQuiet } from '../lib/sys.mjs';

export const title = 'Many channels: one subscriber per channel';

const channelOf = (i) => `job:${i}`;

/** Publication `seq`: consecutive ones go to channels far apart (stride), as independent jobs would. */
const publicationBody = (connections) => (seq, us) => `{"channel":"${channelOf((seq * 7919) % connections)}","data":${makePayload(us, seq, 200)}}`;

async function step({ meterOf, pub, sink, connections, rate, seconds, p99Limit }) {
  sink.swap();
  const closedBefore = sink.closed;
  const failedBefore = pub.failed;
  const meter = meterOf();
  const t0 = performance.now();
  const body = publicationBody(connections);
  const sent = await pub.run({ rate, count: Math.max(1, Math.round(rate * seconds)), makeBody: body });
  await pub.drain(5000);
  await waitFor(() => sink.received >= sent.sent || sink.closed > closedBefore, 3000, 5);
  const elapsed = (performance.now() - t0) / 1000;
  const m = meter();
  const { received, hist } = sink.swap();
  const lat = hist.summary();
  const row = {
    offered: rate,
    achieved: Math.round(received / elapsed),
    p50: lat.p50,
    p99: lat.p99,
    max: lat.max,
    lost: Math.max(0, sent.sent - received),
    pubErrors: pub.failed - failedBefore,
    serverCpu: m.serverCpu,
    engineCpu: m.engineCpu,
    genCpu: m.genCpu,
    otherCpu: m.otherCpu,
  };
  row.ok = row.lost === 0 && row.pubErrors === 0 && !sent.overloaded && lat.p99 !== null && lat.p99 <= p99Limit;
  return row;
}

/**
 * Capacity, whatever the latency: deliveries/s with 128 publications kept in
 * flight (closed loop) for `seconds`, counting what arrives in that window.
 */
async function measureCapacity({ meterOf, pub, sink, connections, seconds }) {
  await sleep(1000); // let the last ladder step settle
  sink.swap();
  const meter = meterOf();
  const t0 = performance.now();
  const body = publicationBody(connections);
  const { sent } = await pub.saturate({ seconds, inFlight: 128, makeBody: body });
  const received = sink.received;
  const elapsed = (performance.now() - t0) / 1000;
  const m = meter();
  await pub.drain(5000);
  return { published: sent, delivered: received, perSecond: Math.round(received / elapsed), serverCpu: m.serverCpu, genCpu: m.genCpu, otherCpu: m.otherCpu };
}

/**
 * @param {{kind: string, stats(): object, targets?: Array<{host: string, port: number}>, target?: object, protocol: object}} server
 *   a launched server, or a group of external gateways ({kind, targets, protocol, stats})
 */
export async function runOne(server, opts) {
  const { connections, rates, stepSeconds, p99Limit, tokens } = opts;
  const targets = server.targets ?? [server.target];
  const sink = new DeliverySink();
  const pool = await openPool({ targets, protocol: server.protocol, sink, count: connections, tokens, channelOf, sampleEvery: 1, timeoutMs: 120_000 });
  if (pool.failed) throw new Error(`${server.kind}: ${pool.failed} connections failed: ${JSON.stringify(pool.errors)}`);
  // After 10,000 connects a server is busy for seconds (subscriptions, GC): measure its steady state.
  await waitQuiet({ timeoutMs: Math.min(20_000, opts.quietWaitMs ?? 20_000) });
  await opts.afterConnect?.(); // e.g. the scale-out scenario's CPU caps, once the connections are in
  // The same number of publishing sockets in all, however many gateways share them.
  const pub = new HttpPublisher({ endpoints: targets, apiKey: API_KEY, socketsPerEndpoint: Math.max(1, Math.round(8 / targets.length)), batch: opts.batch });
  await pub.open();
  const meterOf = () => startMeter(server);
  try {
    const runAt = async (rate, seconds = stepSeconds) => {
      await sink.settle(); // a failed step's backlog stays out of the next one's window
      return step({ meterOf, pub, sink, connections, rate, seconds, p99Limit });
    };
    const { rows, maxSustained } = await climbLadder(rates, runAt, { ...opts, name: server.kind, unit: ' pub/s' });
    const capacity = opts.capacitySeconds ? await measureCapacity({ meterOf, pub, sink, connections, seconds: opts.capacitySeconds }) : undefined;
    return { connectSeconds: pool.seconds, steps: rows, maxSustained, capacity };
  } finally {
    pub.close();
    await closeAll(pool.conns);
  }
}

export const columns = [
  ['server', 'server'],
  ['offered', 'publications/s'],
  ['achieved', 'delivered/s'],
  ['p50', 'p50 ms'],
  ['p99', 'p99 ms'],
  ['max', 'max ms'],
  ['lost', 'lost'],
  ['serverCpu', 'server CPU%'],
  ['genCpu', 'gen CPU%'],
  ['otherCpu', 'other CPU%'],
  ['verdict', ''],
];

/** One row per step; `label` names a server's rows (e.g. `tidings (batch)`). */
export function rowsOf(result, label = (server) => server) {
  return Object.entries(result.servers).flatMap(([kind, r]) => {
    const server = label(kind);
    return r.error ? [{ server, verdict: `error: ${r.error}` }] : r.steps.map((s) => ({ server, ...s, verdict: verdictOf(s) }));
  });
}
