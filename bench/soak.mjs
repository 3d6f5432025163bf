/**
 * Soak: a `tidings serve` child on loopback under connection churn,
 * subscriptions (shared channels, per-connection ones, recovery on reconnect)
 * and API publishing for SOAK_SECONDS; its RSS is sampled from /proc and must
 * stay flat (within 10%) after the warm-up, see `verdict`. Exit code 1 when it
 * does not, or when a subscriber misses a publication.
 *
 *   npm run soak                           # 10 minutes
 *   SOAK_SECONDS=60 npm run soak           # a quick look
 *
 * Settings (environment): SOAK_SECONDS (600), SOAK_WARMUP_SECONDS (a fifth of the
 * run, at least 30), SOAK_CLIENTS (300 connections held), SOAK_CHURN (30
 * reconnects per second), SOAK_RATE (300 publications per second),
 * SOAK_CHANNELS (400 shared channels).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { API_KEY, SECRET, signTokens } from './lib/auth.mjs';
import { freePort, procStats, sleep } from './lib/sys.mjs';

const env = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const SECONDS = env('SOAK_SECONDS', 600);
const WARMUP = env('SOAK_WARMUP_SECONDS', Math.max(30, Math.round(SECONDS / 5)));
const CLIENTS = env('SOAK_CLIENTS', 300);
const CHURN = env('SOAK_CHURN', 30);
const RATE = env('SOAK_RATE', 300);
const CHANNELS = env('SOAK_CHANNELS', 400);
const SAMPLE_MS = 5000;
const TOLERANCE = 0.1;
const PAYLOAD = 'x'.repeat(200);
const BIN = resolve(import.meta.dirname, '../packages/server/bin/tidings.js');
/** The benchmark suite's memory probe: on SIGUSR2 the gateway collects garbage and prints its heap. */
const PROBE = resolve(import.meta.dirname, 'servers/probe.mjs');
/** The heap after GC is read this often (a forced GC changes what RSS does, so not at every sample). */
const HEAP_EVERY_SAMPLES = 12;

/** The gateway under test: history short enough that it reaches its steady size during the warm-up. */
async function startGateway() {
  const port = await freePort();
  const file = join(mkdtempSync(join(tmpdir(), 'tidings-soak-')), 'config.json');
  writeFileSync(file, JSON.stringify({ log: { level: 'warn' }, namespaces: { soak: { history: { size: 50, ttl: '20s' } } } }));
  const child = spawn(process.execPath, ['--expose-gc', '--import', PROBE, BIN, 'serve', '--config', file, '--port', String(port), '--host', '127.0.0.1'], {
    env: { ...process.env, TIDINGS_TOKEN_SECRET: SECRET, TIDINGS_API_KEY: API_KEY, TIDINGS_CONFIG: '' },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  child.heaps = [];
  createInterface({ input: child.stderr }).on('line', (l) => {
    if (l.startsWith('BENCH_PROBE ')) child.heaps.push(JSON.parse(l.slice(12)).heapUsed);
    else process.stderr.write(`[gateway] ${l}\n`);
  });
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/ready`)).ok) return { child, port };
    } catch {}
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error('the gateway did not start');
}

/** One client slot: a connection that comes and goes, always on the same channels, resuming from its last position. */
class Slot {
  constructor(index, token, url, totals) {
    Object.assign(this, { index, token, url, totals });
    this.channels = [`soak:${index % CHANNELS}`, `soak:${(index * 7 + 3) % CHANNELS}`];
    this.positions = new Map();
    this.generation = 0;
  }

  open() {
    const ws = new WebSocket(this.url);
    const generation = ++this.generation;
    this.ws = ws;
    ws.on('error', () => {});
    ws.on('open', () => {
      const subs = this.channels.map((channel) => ({ channel, ...(this.positions.has(channel) ? { since: this.positions.get(channel) } : {}) }));
      // A channel of its own too: it has no publications, and must cost nothing once the slot is gone.
      subs.push({ channel: `own-${this.index}-${generation}` });
      ws.send(JSON.stringify({ id: 1, method: 'connect', params: { token: this.token, subs } }));
    });
    ws.on('message', (data) => this.onFrame(JSON.parse(data.toString())));
    ws.on('close', () => {
      if (this.ws === ws && !this.stopped) setTimeout(() => this.open(), 50);
    });
  }

  onFrame(f) {
    if (f.id === 1 && f.result) {
      this.totals.connects++;
      for (const s of f.result.subs ?? []) {
        if (s.error) this.totals.errors++;
        for (const p of s.publications ?? []) this.onPub({ channel: s.channel, offset: p.offset, epoch: s.epoch });
        if (s.recovered === false && s.wasRecovering) this.totals.unrecovered++;
        if (s.epoch && s.channel.startsWith('soak:')) this.positions.set(s.channel, { offset: s.offset, epoch: s.epoch });
      }
    } else if (f.id === 1 && f.error) this.totals.errors++;
    else if (f.type === 'pub') this.onPub(f);
    else if (f.type === 'ping') this.ws.send('{"method":"pong"}');
  }

  onPub(p) {
    this.totals.received++;
    const last = this.positions.get(p.channel);
    if (last && last.epoch === (p.epoch ?? last.epoch) && p.offset !== last.offset + 1 && p.offset > last.offset) this.totals.gaps++;
    if (!last || p.offset > last.offset) this.positions.set(p.channel, { offset: p.offset, epoch: p.epoch ?? last?.epoch });
  }

  /** Drop the connection; it comes back by itself. */
  churn() {
    this.ws?.terminate();
  }

  stop() {
    this.stopped = true;
    this.ws?.terminate();
  }
}

/** Publish RATE per second, spread over the shared channels, one request at a time per lane. */
function startPublisher(port, totals, running) {
  const lanes = 8;
  const interval = (1000 * lanes) / RATE;
  return Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let n = lane; running(); n += lanes) {
        const started = performance.now();
        const res = await fetch(`http://127.0.0.1:${port}/api/publish`, {
          method: 'POST',
          headers: { authorization: `apikey ${API_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ channel: `soak:${n % CHANNELS}`, data: { n, pad: PAYLOAD } }),
        }).catch(() => undefined);
        if (res?.ok) totals.published++;
        else totals.errors++;
        await res?.arrayBuffer();
        await sleep(Math.max(0, interval - (performance.now() - started)));
      }
    }),
  );
}

/**
 * Flat means no trend: the median RSS of the last third of the samples after
 * the warm-up is within 10% of the median of the first third. Medians, because
 * V8 grows and shrinks its heap in steps of tens of MB, and one sample taken
 * in such a dip would otherwise set the level.
 */
function verdict(samples) {
  const after = samples.filter((s) => s.t >= WARMUP).map((s) => s.rss);
  if (after.length < 6) return { ok: false, reason: 'the run is too short for samples after the warm-up' };
  const third = Math.floor(after.length / 3);
  const base = median(after.slice(0, third));
  const end = median(after.slice(-third));
  return { ok: end <= base * (1 + TOLERANCE), base, end, min: Math.min(...after), max: Math.max(...after), growth: end / base - 1 };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const mb = (b) => `${(b / 1048576).toFixed(1)} MB`;

async function main() {
  const { child, port } = await startGateway();
  const totals = { connects: 0, received: 0, published: 0, gaps: 0, unrecovered: 0, errors: 0 };
  const tokens = await signTokens(CLIENTS, 'soak');
  const slots = tokens.map((token, i) => new Slot(i, token, `ws://127.0.0.1:${port}/ws`, totals));
  for (const s of slots) s.open();
  const startedAt = Date.now();
  const elapsed = () => (Date.now() - startedAt) / 1000;
  const running = () => elapsed() < SECONDS;
  const publishing = startPublisher(port, totals, running);
  const churner = setInterval(() => {
    for (let i = 0; i < CHURN / 10; i++) slots[Math.floor(Math.random() * slots.length)].churn();
  }, 100);
  const samples = [];
  console.log(`soak: ${SECONDS} s (warm-up ${WARMUP} s), ${CLIENTS} connections, ${CHURN} reconnects/s, ${RATE} publications/s on ${CHANNELS} channels`);
  while (running()) {
    await sleep(SAMPLE_MS);
    const { rss, cpuMs } = procStats(child.pid);
    samples.push({ t: Math.round(elapsed()), rss });
    const heap = child.heaps.length ? `  heap after GC ${mb(child.heaps.at(-1))}` : '';
    console.log(`${String(Math.round(elapsed())).padStart(5)} s  rss ${mb(rss)}${heap}  cpu ${(cpuMs / 1000).toFixed(0)} s  ${JSON.stringify(totals)}`);
    if (samples.length % HEAP_EVERY_SAMPLES === 0) child.kill('SIGUSR2');
  }
  clearInterval(churner);
  await publishing;
  for (const s of slots) s.stop();
  child.kill('SIGTERM');
  const v = verdict(samples);
  const clean = totals.gaps === 0 && totals.errors === 0 && totals.unrecovered === 0 && totals.received > 0;
  if (v.base) {
    const pct = `${v.growth >= 0 ? '+' : ''}${(v.growth * 100).toFixed(1)}%`;
    console.log(`RSS after warm-up (median of the first third -> of the last third): ${mb(v.base)} -> ${mb(v.end)} (${pct}, limit +${TOLERANCE * 100}%); range ${mb(v.min)}-${mb(v.max)}`);
    console.log(`heap after GC, every ${(HEAP_EVERY_SAMPLES * SAMPLE_MS) / 1000} s: ${child.heaps.map(mb).join(', ')}`);
  }
  console.log(`${v.ok && clean ? 'PASS' : 'FAIL'}: RSS ${v.ok ? 'flat' : v.reason ?? 'grew'}; ${totals.published} published, ${totals.received} received, ${totals.connects} connects, ${totals.gaps} gaps, ${totals.unrecovered} failed recoveries, ${totals.errors} errors`);
  process.exit(v.ok && clean ? 0 : 1);
}

await main();
