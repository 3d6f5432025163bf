/**
 * What one publication costs each server, in CPU time rather than latency:
 * N connections on a channel each (the many-channels pattern), a fixed number
 * of HTTP publications at a rate every server keeps up with, and the server
 * process's own CPU time (utime + stime from /proc) divided by the
 * publications delivered, after an unmeasured warm-up of a quarter as many
 * (the JIT compiles the publish path there). CPU time a process used does not grow much when
 * other processes share the machine, so this ratio stays readable on a busy
 * box where the latency ladder of `run.mjs` does not. Rounds alternate
 * between the servers; the median per server is reported.
 *
 * `tidings-redis` is a Tidings node on the Redis engine, with its own
 * redis-server on core 0, or on the core `--redis-core` names (the node's CPU
 * is what is compared; Redis's own CPU per publication is printed beside it in
 * each round's line). On core 0 a CPU profile of the node counts the time
 * Redis runs while the node waits in a socket write as the write's own.
 *
 * `tidings-node-http` is Tidings with its HTTP fast lane off (every API
 * request through node:http), for an A/B within one build.
 *
 * `--channels 1` puts every connection on one channel: the fan-out pattern,
 * reported per delivery (each of 2,000 subscribers receiving a publication).
 *
 * `--batch N` sends Tidings' publications N at a time through `POST /api/batch`
 * (the peers have no batch endpoint; run it with Tidings servers only).
 *
 * Usage: node bench/publish-cost.mjs [--servers tidings,ws,tidings-redis,tidings-node-http] [--connections 2000]
 *        [--channels N] [--publications 20000] [--rate 4000] [--batch N] [--rounds 3] [--profile DIR] [--redis-core 0]
 */
import { parseArgs } from 'node:util';
import { HttpPublisher } from './generator/publisher.mjs';
import { closeAll, openPool } from './generator/pool.mjs';
import { DeliverySink } from './generator/sink.mjs';
import { API_KEY, signTokens } from './lib/auth.mjs';
import { makePayload } from './lib/payload.mjs';
import { procStats, sleep, waitFor } from './lib/sys.mjs';
import { alternateRounds } from './lib/rounds.mjs';
import { startRedis } from './lib/redis.mjs';
import { launch } from './servers/launch.mjs';

const { values: o } = parseArgs({
  options: {
    servers: { type: 'string', default: 'tidings,ws' },
    connections: { type: 'string', default: '2000' },
    publications: { type: 'string', default: '20000' },
    rate: { type: 'string', default: '4000' },
    batch: { type: 'string', default: '0' },
    rounds: { type: 'string', default: '3' },
    /** Channels the connections are spread over (default: one each); 1 measures fan-out, per delivery. */
    channels: { type: 'string' },
    /** Write a CPU profile of each server's round into this folder. */
    profile: { type: 'string' },
    'redis-core': { type: 'string', default: '0' },
  },
});
const connections = Number(o.connections);
const publications = Number(o.publications);
const channels = Number(o.channels ?? connections);
if (!(channels >= 1 && channels <= connections && connections % channels === 0)) throw new Error('--channels must divide --connections');
/** Deliveries per publication. */
const fanout = connections / channels;
if (Number(o.batch) > 0 && o.servers.split(',').some((k) => !k.startsWith('tidings'))) throw new Error('--batch: only Tidings servers have POST /api/batch');
const channelOf = (i) => `job:${i % channels}`;
const body = (seq, us) => `{"channel":"${channelOf((seq * 7919) % channels)}","data":${makePayload(us, seq, 200)}}`;

/** One round on a fresh server: CPU µs per delivered publication, and what was lost. */
/** The server under test, and what else has to stop with it. */
async function start(kind) {
  if (kind !== 'tidings-redis') return { server: await launch(kind, { profileDir: o.profile }), redis: null };
  const redis = await startRedis({ cpu: Number(o['redis-core']) });
  return { server: await launch('tidings', { profileDir: o.profile, args: ['--engine', 'redis', '--redis-url', redis.url] }), redis };
}

async function round(kind, tokens) {
  const { server, redis } = await start(kind);
  const sink = new DeliverySink();
  const pool = await openPool({ targets: [server.target], protocol: server.protocol, sink, count: connections, tokens, channelOf, sampleEvery: 1, timeoutMs: 120_000 });
  const pub = new HttpPublisher({ endpoints: [server.target], apiKey: API_KEY, socketsPerEndpoint: 8, batch: Number(o.batch) });
  try {
    if (pool.failed) throw new Error(`${kind}: ${pool.failed} connections failed`);
    // Unmeasured first: the publish path compiled and its first garbage collected, so the round measures a warm server.
    const warm = await pub.run({ rate: Number(o.rate), count: Math.round(publications / 4), makeBody: body });
    await pub.drain(10_000);
    await waitFor(() => sink.received >= warm.sent * fanout, 10_000, 5);
    await sleep(2000); // let the connects' and the warm-up's garbage be collected before measuring
    sink.swap();
    const before = server.stats().cpuMs;
    const redisBefore = redis ? procStats(redis.pid).cpuMs : 0;
    const { sent } = await pub.run({ rate: Number(o.rate), count: publications, makeBody: body });
    await pub.drain(10_000);
    await waitFor(() => sink.received >= sent * fanout, 10_000, 5);
    const cpuMs = server.stats().cpuMs - before;
    const redisMs = redis ? procStats(redis.pid).cpuMs - redisBefore : undefined;
    const { received } = sink.swap();
    const perPub = (ms) => (ms * 1000) / Math.max(1, received);
    return { cpuUsPerPub: perPub(cpuMs), redisUsPerPub: redisMs === undefined ? undefined : perPub(redisMs), lost: sent * fanout - received, failed: pub.failed };
  } finally {
    pub.close();
    await closeAll(pool.conns);
    await server.stop();
    await redis?.stop();
  }
}

const UNIT = fanout === 1 ? 'publication' : 'delivery';
const tokens = await signTokens(connections);
await alternateRounds(o.servers.split(','), Number(o.rounds), async (kind) => {
  const s = await round(kind, tokens);
  const redisCpu = s.redisUsPerPub === undefined ? '' : ` (Redis ${s.redisUsPerPub.toFixed(2)} µs)`;
  return { value: s.cpuUsPerPub, line: `${s.cpuUsPerPub.toFixed(2)} µs CPU per ${UNIT}${redisCpu}, lost ${s.lost}, failed ${s.failed}` };
}, `CPU µs per ${UNIT}`);
