/**
 * Scenario 6, polling vs push, for the same jobs. A job backend (here, in the
 * generator process) updates W jobs at random intervals and, on each update,
 * publishes the new status to Tidings (`jobs:<id>`). W browser-like clients
 * poll `GET /jobs/<id>` every 2 s; W Tidings clients subscribe to the same
 * jobs. Per client: what connection setup costs, then requests/min and
 * bytes/min on the wire (both directions) in the steady state, update latency
 * (update made → client has it), and how many updates each approach saw at
 * all. Push requests are the client's frames after `connect` (pongs to the
 * server's 25 s pings): a run shorter than 25 s sees none.
 */
import { createServer } from 'node:http';
import { HttpPublisher } from '../generator/publisher.mjs';
import { Poller } from '../generator/poller.mjs';
import { closeAll, openPool } from '../generator/pool.mjs';
import { API_KEY } from '../lib/auth.mjs';
import { Histogram } from '../lib/histogram.mjs';
import { nowUs } from '../lib/payload.mjs';
import { sleep, sourceAddress } from '../lib/sys.mjs';

export const title = 'Polling (2 s) vs push, same jobs';
export const only = ['tidings'];

const STAGES = ['queued', 'downloading', 'transcoding', 'transcribing', 'summarising', 'done'];

/** The application's job state and its status endpoint. */
class JobBackend {
  constructor(count, publisher) {
    this.publisher = publisher;
    this.jobs = Array.from({ length: count }, (_, id) => ({ id, version: 0, status: this.statusOf(id, 0) }));
    this.updates = 0;
    this.http = createServer((req, res) => {
      const job = this.jobs[Number(req.url.split('/')[2])];
      const body = job ? job.status : '{}';
      res.writeHead(job ? 200 : 404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
      res.end(body);
    });
  }

  statusOf(id, version) {
    const progress = Math.min(100, version * 7);
    return JSON.stringify({ job: id, version, stage: STAGES[Math.min(STAGES.length - 1, Math.floor(progress / 20))], progress, updatedUs: nowUs() });
  }

  listen() {
    return new Promise((r) => this.http.listen(0, '127.0.0.1', () => r(this.http.address().port)));
  }

  /** Update jobs at random intervals (uniform in [min, max] ms) until stop(). */
  start(minMs, maxMs) {
    const schedule = (job) => {
      job.timer = setTimeout(() => {
        job.version++;
        job.status = this.statusOf(job.id, job.version);
        this.updates++;
        this.publisher.queue(`{"channel":"jobs:${job.id}","data":${job.status}}`);
        this.publisher.flush();
        schedule(job);
      }, minMs + Math.random() * (maxMs - minMs));
    };
    for (const job of this.jobs) schedule(job);
  }

  stop() {
    for (const job of this.jobs) clearTimeout(job.timer);
    this.http.close();
  }
}

/** Tracks which versions a client saw and how late. */
class Observer {
  hist = new Histogram();
  seen = 0;
  last = new Map();

  see(job, version, updatedUs) {
    if (version <= (this.last.get(job) ?? 0)) return;
    this.last.set(job, version);
    this.seen++;
    this.hist.record(nowUs() - updatedUs);
  }
}

async function pollAll(port, watchers, intervalMs) {
  const obs = new Observer();
  const pollers = [];
  for (let i = 0; i < watchers; i++) {
    const p = new Poller({ host: '127.0.0.1', port, path: `/jobs/${i}`, intervalMs, onBody: (b) => { const s = JSON.parse(b); obs.see(s.job, s.version, s.updatedUs); } });
    await p.open(sourceAddress());
    p.start(Math.random() * intervalMs);
    pollers.push(p);
  }
  return { obs, pollers };
}

async function pushAll(server, watchers, tokens) {
  const obs = new Observer();
  const sink = {
    reads: 0,
    onData(conn, buf, s, e) {
      const d = JSON.parse(buf.toString('utf8', s, e)).data;
      obs.see(d.job, d.version, d.updatedUs);
    },
    onClose() {},
  };
  const pool = await openPool({ targets: [server.target], protocol: server.protocol, sink, count: watchers, tokens, channelOf: (i) => `jobs:${i}` });
  return { obs, conns: pool.conns };
}

/**
 * Per client. Setup (TCP connect, WebSocket upgrade, `connect`) is counted
 * apart from the steady state, so a short run does not smear a once-per-page
 * cost over a few seconds.
 */
function summarise(obs, clients, seconds, { setupRequests, setupBytes, requests, bytes }, updates) {
  const perMin = (n) => n / clients / (seconds / 60);
  const lat = obs.hist.summary();
  return {
    clients,
    setupRequests: setupRequests / clients,
    setupBytes: Math.round(setupBytes / clients),
    requestsPerMin: perMin(requests),
    bytesPerMin: Math.round(perMin(bytes.in + bytes.out)),
    p50: lat.p50,
    p99: lat.p99,
    max: lat.max,
    updatesSeenPct: Math.round((obs.seen / updates) * 1000) / 10,
  };
}

const sum = (list, f) => list.reduce((acc, x) => { const b = f(x); acc.in += b.in; acc.out += b.out; return acc; }, { in: 0, out: 0 });

export async function runOne(server, opts) {
  const { watchers, seconds, pollMs, updateMinMs, updateMaxMs, tokens } = opts;
  const publisher = new HttpPublisher({ endpoints: [server.target], apiKey: API_KEY, socketsPerEndpoint: 1 });
  await publisher.open();
  const backend = new JobBackend(watchers, publisher);
  const port = await backend.listen();
  const push = await pushAll(server, watchers, tokens);
  const setup = sum(push.conns, (c) => c.wireBytes());
  const setupFrames = push.conns.reduce((n, c) => n + 1 + c.framesOut, 0); // the upgrade request + `connect`
  const poll = await pollAll(port, watchers, pollMs);
  const t0 = performance.now();
  backend.start(updateMinMs, updateMaxMs);
  await sleep(seconds * 1000);
  backend.stop();
  await sleep(pollMs + 200); // let the last updates reach both sides
  const elapsed = (performance.now() - t0) / 1000;
  for (const p of poll.pollers) p.stop();
  const after = sum(push.conns, (c) => c.wireBytes());
  const frames = push.conns.reduce((n, c) => n + 1 + c.framesOut, 0) - setupFrames; // pongs
  await closeAll(push.conns);
  publisher.close();
  const pollRequests = poll.pollers.reduce((n, p) => n + p.requests, 0);
  const pollTraffic = { setupRequests: 0, setupBytes: 0, requests: pollRequests, bytes: sum(poll.pollers, (p) => p.bytes) };
  const pushTraffic = { setupRequests: setupFrames, setupBytes: setup.in + setup.out, requests: frames, bytes: { in: after.in - setup.in, out: after.out - setup.out } };
  const rows = [
    { approach: `polling every ${pollMs / 1000} s`, ...summarise(poll.obs, watchers, elapsed, pollTraffic, backend.updates) },
    { approach: 'Tidings subscription', ...summarise(push.obs, watchers, elapsed, pushTraffic, backend.updates) },
  ];
  opts.log(`  ${backend.updates} updates; polling ${rows[0].requestsPerMin.toFixed(1)} req/min, push ${rows[1].requestsPerMin.toFixed(2)} req/min per client after setup`);
  const reduction = (k) => Math.round((1 - rows[1][k] / rows[0][k]) * 1000) / 10;
  return { seconds: elapsed, updates: backend.updates, rows, requestReductionPct: reduction('requestsPerMin'), byteReductionPct: reduction('bytesPerMin') };
}

export const columns = [
  ['approach', 'approach'],
  ['clients', 'clients'],
  ['setupRequests', 'setup requests'],
  ['setupBytes', 'setup bytes'],
  ['requestsPerMin', 'requests/min'],
  ['bytesPerMin', 'bytes/min'],
  ['p50', 'update latency p50 ms'],
  ['p99', 'p99 ms'],
  ['max', 'max ms'],
  ['updatesSeenPct', 'updates seen %'],
];

export function rowsOf(result) {
  return Object.values(result.servers).flatMap((r) => (r.error ? [{ approach: `error: ${r.error}` }] : r.rows));
}
