/**
 * RPC latency, cold vs warm (seed 003's "5 s → <500 ms for 2nd+ requests"):
 *
 *   cold: a new client, from createClient() to the first RPC's result
 *         (token, TCP, WebSocket upgrade or SSE stream, connect, the call);
 *   warm: the 2nd–10th RPC on that same connection.
 *
 * Over the WebSocket and over SSE, on loopback and through a proxy that adds
 * a round-trip time (`--rtt`, default 0 and 50 ms; TCP handshakes included,
 * TLS not), because on a real network what a warm connection saves is round
 * trips. The RPC streams 5 chunks and a result. The gateway runs in its own
 * process (this file with --serve).
 *
 * Usage: node bench/rpc-latency.mjs [--rounds 20] [--rtt 0,50]
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { createClient } from '@tidings/client';
import { Gateway, makeConfig, signToken } from '@tidings/server';

const SECRET = 'bench-secret-0123456789-0123456789-abc';
const API_KEY = 'bench-api-key-0123456789';
const { values } = parseArgs({
  options: { serve: { type: 'boolean', default: false }, rounds: { type: 'string', default: '20' }, rtt: { type: 'string', default: '0,50' } },
});

/** Child mode: a gateway with an `analyze` method that streams 5 chunks, then answers. */
async function serve() {
  const config = makeConfig({ host: '127.0.0.1', port: 0, apiKey: API_KEY, token: { hmacSecret: SECRET }, log: { level: 'warn' } });
  const gw = new Gateway({ config });
  gw.rpc('analyze', async function* (data) {
    for (let i = 0; i < 5; i++) yield { stage: i };
    return { ok: true, size: JSON.stringify(data).length };
  });
  const port = await gw.listen();
  process.stdout.write(`${port}\n`);
  process.on('SIGTERM', () => void gw.close(1000).then(() => process.exit(0)));
}

function startGateway() {
  const child = spawn(process.execPath, [import.meta.filename, '--serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve({ port: Number(String(d).trim()), child }));
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
  });
}

/**
 * A TCP proxy that delays every chunk by rtt/2 each way, and a new
 * connection's first bytes by one more rtt: the TCP handshake a real network
 * would cost (TLS is not modelled).
 */
async function latencyProxy(targetPort, rttMs) {
  const half = rttMs / 2;
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        setTimeout(() => (s === client ? upstream : client).destroy(), half);
      });
    }
    relay(client, upstream, half, performance.now() + rttMs + half);
    relay(upstream, client, half, 0);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: server.address().port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(r));
    },
  };
}

/** Forward `from` to `to`, each chunk `delay` ms later (not before `notBefore`), in order. */
function relay(from, to, delay, notBefore) {
  const queue = [];
  let timer = null;
  const pump = () => {
    timer = null;
    while (queue.length > 0 && queue[0].due <= performance.now()) {
      const { chunk } = queue.shift();
      if (to.writable) to.write(chunk);
    }
    if (queue.length > 0) timer = setTimeout(pump, queue[0].due - performance.now());
  };
  from.on('data', (chunk) => {
    queue.push({ chunk, due: Math.max(performance.now() + delay, notBefore) });
    timer ??= setTimeout(pump, queue[0].due - performance.now());
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
const payload = { sentence: 'the quick brown fox', audio: 'x'.repeat(2000) };

async function round(port, transport, user) {
  const t0 = performance.now();
  const client = createClient({ url: `ws://127.0.0.1:${port}/ws`, transports: [transport], getToken: () => signToken(SECRET, { sub: user, ttlSeconds: 600 }) });
  client.connect();
  await client.ready(10_000);
  let chunks = 0;
  const call = () => client.rpc('analyze', payload, { onChunk: () => chunks++ });
  await call();
  const cold = performance.now() - t0;
  const warm = [];
  for (let i = 1; i < 10; i++) {
    const t = performance.now();
    await call();
    warm.push(performance.now() - t);
  }
  client.disconnect();
  if (chunks !== 50) throw new Error(`expected 50 chunks, got ${chunks}`);
  return { cold, warm };
}

/** `rounds` new clients; with an rtt, each through a proxy of its own, so no pooled connection makes a cold start warm. */
async function measure(port, transport, rounds, rtt) {
  const cold = [];
  const warm = [];
  for (let r = 0; r < rounds; r++) {
    const proxy = rtt > 0 ? await latencyProxy(port, rtt) : null;
    const res = await round(proxy?.port ?? port, transport, `bench-${transport}-${r}`);
    await proxy?.close();
    cold.push(res.cold);
    warm.push(...res.warm);
  }
  cold.sort((a, b) => a - b);
  warm.sort((a, b) => a - b);
  return { cold, warm };
}

async function main() {
  const rounds = Number(values.rounds);
  const rtts = values.rtt.split(',').map(Number);
  const { port, child } = await startGateway();
  const f = (x) => x.toFixed(1).padStart(7);
  try {
    await measure(port, 'websocket', 2, 0); // warm up the JIT and the gateway process
    await measure(port, 'sse', 2, 0);
    console.log(`node ${process.version}; ${rounds} new clients per row, 10 RPCs each (5 chunks + result, ~2 KB request)`);
    console.log('rtt ms | transport | cold 1st RPC p50 / p95 ms | warm 2nd–10th p50 / p95 ms');
    for (const rtt of rtts) {
      for (const transport of ['websocket', 'sse']) {
        const m = await measure(port, transport, rounds, rtt);
        console.log(`${String(rtt).padStart(6)} | ${transport.padEnd(9)} | ${f(percentile(m.cold, 50))} / ${f(percentile(m.cold, 95))} | ${f(percentile(m.warm, 50))} / ${f(percentile(m.warm, 95))}`);
      }
    }
  } finally {
    child.kill('SIGTERM');
  }
}

if (values.serve) await serve();
else await main();
