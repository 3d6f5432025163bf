/**
 * Scenario 5, recovery storm (Tidings only: the peers have no recovery).
 * N clients subscribed to one channel, tracking their last {offset, epoch}
 * from the publications they receive, are cut at once (TCP reset, as a network
 * drop); M publications are made while they are away; then every client
 * reconnects with `connect` `subs: [{channel, since}]` and must get all M
 * back in the connect reply (`recovered: true`). Reconnects start all at once
 * (jitter 0, the worst case) or spread over a jitter window like the SDK's
 * backoff. Measured: time from the first reconnect until the last client has
 * recovered, and each client's reconnect-to-recovered time.
 */
import { WsConnection } from '../generator/connection.mjs';
import { HttpPublisher } from '../generator/publisher.mjs';
import { closeAll, openPool } from '../generator/pool.mjs';
import { API_KEY } from '../lib/auth.mjs';
import { Histogram } from '../lib/histogram.mjs';
import { startMeter } from '../lib/meter.mjs';
import { makePayload, nowUs } from '../lib/payload.mjs';
import { sleep, sourceAddress, waitFor } from '../lib/sys.mjs';

export const title = 'Recovery storm';
export const only = ['tidings'];

const CHANNEL = 'rec';
const PUB = Buffer.from('{"type":"pub"');
const OFFSET = Buffer.from('"offset":');
const RECOVERED = Buffer.from('"recovered":true');

function readOffset(buf, s) {
  let i = buf.indexOf(OFFSET, s) + OFFSET.length;
  let v = 0;
  while (buf[i] >= 48 && buf[i] <= 57) v = v * 10 + (buf[i++] - 48);
  return v;
}

/** Keeps each client's position from the publications it receives. */
class PositionSink {
  received = 0;
  reads = 0;
  onData(conn, buf, s) {
    this.received++;
    conn.since.offset = readOffset(buf, s);
  }
  onClose() {}
}

/** First connect: remember the subscription's position (parsed in full; not timed). */
function firstReply(conn) {
  conn.onReply = (buf, s, e) => {
    const sub = JSON.parse(buf.toString('utf8', s, e)).result.subs[0];
    conn.since = { offset: sub.offset, epoch: sub.epoch };
  };
}

/** Reconnect reply: count the recovered publications without parsing 100 of them. */
function recoveryReply(buf, s, e) {
  let pubs = 0;
  for (let at = buf.indexOf(PUB, s); at >= 0 && at < e; at = buf.indexOf(PUB, at + PUB.length)) pubs++;
  const flag = buf.indexOf(RECOVERED, s);
  return { pubs, recovered: flag >= 0 && flag < e, offset: readOffset(buf, s) };
}

async function serverConnections(server) {
  const res = await fetch(`http://${server.host}:${server.port}/api/info`, { headers: { authorization: `apikey ${API_KEY}` } });
  return (await res.json()).nodes[0].connections;
}

async function publishMissed(server, count) {
  const pub = new HttpPublisher({ endpoints: [server.target], apiKey: API_KEY, socketsPerEndpoint: 1 });
  await pub.open();
  await pub.run({ rate: 2000, count, makeBody: (seq, us) => `{"channel":"${CHANNEL}","data":${makePayload(us, seq, 200)}}` });
  await pub.drain();
  pub.close();
  if (pub.failed) throw new Error(`publish failed: ${pub.lastError}`);
}

/** Cut everyone, publish `missed`, reconnect everyone with `since`; returns the new connections and the figures. */
async function storm(server, conns, { missed, jitterMs, sink }) {
  await closeAll(conns);
  await waitFor(async () => (await serverConnections(server)) === 0, 15_000, 50);
  await publishMissed(server, missed);
  const meter = startMeter(server);
  const times = new Histogram();
  const t0 = nowUs();
  let last = t0;
  let recovered = 0;
  let incomplete = 0;
  let failed = 0;
  const next = await Promise.all(
    conns.map(async (old) => {
      const conn = new WsConnection({ target: server.target, protocol: server.protocol, sink, token: old.token, channel: CHANNEL, since: { ...old.since }, localAddress: sourceAddress() });
      conn.onReply = recoveryReply;
      if (jitterMs) await sleep(Math.random() * jitterMs);
      try {
        const r = await conn.open(30_000);
        conn.since.offset = r.offset;
        if (r.recovered && r.pubs === missed) recovered++;
        else incomplete++;
        times.record(conn.readyUs - conn.startedUs);
        last = Math.max(last, conn.readyUs);
      } catch {
        failed++;
      }
      return conn;
    }),
  );
  const m = meter();
  const t = times.summary();
  return {
    conns: next.filter((c) => c.state === 'ready'),
    row: { jitterMs, clients: conns.length, missed, recovered, incomplete, failed, allRecoveredMs: Math.round((last - t0) / 1000), p50: t.p50, p99: t.p99, serverCpu: m.serverCpu, genCpu: m.genCpu },
  };
}

export async function runOne(server, opts) {
  const { clients, missed, jitters, tokens } = opts;
  const sink = new PositionSink();
  const pool = await openPool({ targets: [server.target], protocol: server.protocol, sink, count: clients, tokens, channelOf: () => CHANNEL, extra: firstReply });
  if (pool.failed) throw new Error(`${pool.failed} clients failed: ${JSON.stringify(pool.errors)}`);
  // A few live publications first, so positions come from the stream as a real client's would.
  await publishMissed(server, 10);
  await waitFor(() => sink.received >= 10 * clients, 10_000);
  let conns = pool.conns;
  const rows = [];
  try {
    for (const jitterMs of jitters) {
      const r = await storm(server, conns, { missed, jitterMs, sink });
      conns = r.conns;
      rows.push(r.row);
      opts.log(`  jitter ${jitterMs} ms: all ${r.row.recovered}/${clients} recovered in ${r.row.allRecoveredMs} ms (incomplete ${r.row.incomplete}, failed ${r.row.failed})`);
    }
  } finally {
    await closeAll(conns);
  }
  return { storms: rows };
}

export const columns = [
  ['server', 'server'],
  ['jitterMs', 'reconnect spread ms'],
  ['clients', 'clients'],
  ['missed', 'missed each'],
  ['recovered', 'recovered'],
  ['incomplete', 'not recovered'],
  ['failed', 'failed'],
  ['allRecoveredMs', 'all recovered ms'],
  ['p50', 'per-client p50 ms'],
  ['p99', 'per-client p99 ms'],
  ['serverCpu', 'server CPU%'],
];

export function rowsOf(result) {
  return Object.entries(result.servers).flatMap(([server, r]) => (r.error ? [{ server, jitterMs: `error: ${r.error}` }] : r.storms.map((s) => ({ server, ...s }))));
}
