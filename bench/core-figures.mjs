/**
 * Core figures for one gateway node on the embedded engine, measured end to
 * end over loopback. The gateway runs as its own `tidings serve` process; the
 * publishers and the one subscriber run here.
 *
 *   1. Throughput one client receives from one channel: publications pushed
 *      as fast as the publisher can (HTTP API with 64 requests in flight, and
 *      a WebSocket publisher with 512 in flight), received by one SDK client.
 *   2. Reconnect with recovery of 50 missed publications: disconnect, publish
 *      50, connect; time from connect() to the 50th publication delivered.
 *
 * Usage: node bench/core-figures.mjs [--messages 50000] [--rounds 20]
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from './lib/sys.mjs';
import { createClient } from '@tidings/client';
import { signToken } from '@tidings/server';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '50000' }, rounds: { type: 'string', default: '20' } } });
const N = Number(values.messages);
const ROUNDS = Number(values.rounds);
const SECRET = 'bench-secret-0123456789-0123456789-abc';
const API_KEY = 'bench-api-key-0123456789';
const payload = 'x'.repeat(160); // ~200-byte publications on the wire with the envelope

async function startGateway() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tidings-bench-'));
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({
    namespaces: { '': {}, bench: { publish: 'authenticated', history: { size: 1000, ttl: '10m' } } },
    client: { commandRate: 1e6, commandBurst: 1e6, queueMaxBytes: 64 * 1024 * 1024 },
    log: { level: 'warn' },
  }));
  const bin = resolve(import.meta.dirname, '../packages/server/bin/tidings.js');
  const child = spawn(process.execPath, [bin, 'serve', '--config', config, '--port', String(port), '--host', '127.0.0.1'], {
    env: { ...process.env, TIDINGS_TOKEN_SECRET: SECRET, TIDINGS_API_KEY: API_KEY },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) return { port, child };
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('gateway did not start');
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

async function connectClient(port, user) {
  const client = createClient({ url: `ws://127.0.0.1:${port}/ws`, getToken: () => signToken(SECRET, { sub: user, ttlSeconds: 3600 }), minReconnectDelay: 10 });
  client.connect();
  await client.ready(5000);
  return client;
}

async function receive(port, channel, publishAll) {
  const sub = await connectClient(port, 'receiver');
  let got = 0;
  let first = 0;
  let last = 0;
  const latencies = [];
  let done;
  const finished = new Promise((r) => (done = r));
  const s = sub.subscribe(channel, {
    onPublication: (p) => {
      const now = performance.now() + performance.timeOrigin;
      if (got === 0) first = now;
      last = now;
      if (got % 10 === 0) latencies.push(now - p.data.t);
      if (++got === N) done();
    },
  });
  await s.ready(5000);
  await publishAll();
  await finished;
  sub.disconnect();
  latencies.sort((a, b) => a - b);
  return { rate: Math.round((N - 1) / ((last - first) / 1000)), p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** HTTP API publisher on keep-alive sockets (node:http; fetch itself caps near 2k req/s here). */
function postJson(agent, port, path, body) {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = http.request(
      { agent, host: '127.0.0.1', port, path, method: 'POST', headers: { authorization: `apikey ${API_KEY}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`publish ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

async function viaHttp(port, channel) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let next = 0;
  const worker = async () => {
    while (next++ < N) await postJson(agent, port, '/api/publish', { channel, data: { t: performance.now() + performance.timeOrigin, payload } });
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  agent.destroy();
}

async function viaWebSocket(port, channel) {
  const pub = await connectClient(port, 'publisher');
  const window = 512;
  let inflight = [];
  for (let i = 0; i < N; i++) {
    inflight.push(pub.publish(channel, { t: performance.now() + performance.timeOrigin, payload }));
    if (inflight.length >= window) {
      await Promise.all(inflight);
      inflight = [];
    }
  }
  await Promise.all(inflight);
  pub.disconnect();
}

async function recoveryRounds(port) {
  const client = await connectClient(port, 'recoverer');
  let got = 0;
  let recovered = 0;
  const s = client.subscribe('recovery', {
    onPublication: () => got++,
    onSubscribed: (ctx) => {
      if (ctx.recovered) recovered++;
    },
  });
  await s.ready(5000);
  const times = [];
  for (let r = 0; r < ROUNDS; r++) {
    client.disconnect();
    for (let i = 0; i < 50; i++) {
      await fetch(`http://127.0.0.1:${port}/api/publish`, {
        method: 'POST',
        headers: { authorization: `apikey ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ channel: 'recovery', data: { r, i } }),
      });
    }
    const target = got + 50;
    const t0 = performance.now();
    client.connect();
    while (got < target) await new Promise((res) => setImmediate(res));
    times.push(performance.now() - t0);
  }
  client.disconnect();
  times.sort((a, b) => a - b);
  return { median: percentile(times, 50), p95: percentile(times, 95), recovered, rounds: ROUNDS, got };
}

const { port, child } = await startGateway();
try {
  const http = await receive(port, 'bench:http', () => viaHttp(port, 'bench:http'));
  const ws = await receive(port, 'bench:ws', () => viaWebSocket(port, 'bench:ws'));
  const rec = await recoveryRounds(port);
  const f = (x) => x.toFixed(1);
  console.log(`node ${process.version}, ${N} publications of ~200 B, one subscriber, one gateway process (memory engine)`);
  console.log(`publisher        | received/s | latency p50 | p99`);
  console.log(`HTTP API (64 in flight) | ${http.rate} | ${f(http.p50)} ms | ${f(http.p99)} ms`);
  console.log(`WebSocket (512 in flight) | ${ws.rate} | ${f(ws.p50)} ms | ${f(ws.p99)} ms`);
  console.log(`reconnect + recover 50: median ${f(rec.median)} ms, p95 ${f(rec.p95)} ms over ${rec.rounds} rounds (recovered: ${rec.recovered}/${rec.rounds})`);
} finally {
  child.kill('SIGTERM');
}
