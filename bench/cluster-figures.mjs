/**
 * Scale-out figures on a real redis-server (started here on a free loopback port):
 *   1. deliveries/s through one node vs two nodes: 1,000 connections, each on
 *      its own channel (the job-progress pattern), publications through the
 *      HTTP API as fast as 64 keep-alive requests in flight allow, for a fixed time;
 *   2. 1,000 SDK clients behind a loopback balancer on two nodes: SIGKILL one
 *      node, publish 20 more, time until every client has recovered all of them.
 * Usage: node bench/cluster-figures.mjs [--clients 1000] [--seconds 8]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startRedis } from './lib/redis.mjs';
import { freePort } from './lib/sys.mjs';
import WebSocket from 'ws';
import { createClient } from '@tidings/client';
import { signToken } from '@tidings/server';

const { values } = parseArgs({ options: { clients: { type: 'string', default: '1000' }, seconds: { type: 'string', default: '8' } } });
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);
const SECRET = 'bench-secret-0123456789-0123456789-abc';
const API_KEY = 'bench-api-key-0123456789';
const BIN = resolve(import.meta.dirname, '../packages/server/bin/tidings.js');
const children = [];

async function waitHttp(url) {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not come up`);
}

async function startNode(redisUrl, prefix) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tidings-cluster-bench-'));
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ log: { level: 'warn' }, client: { queueMaxBytes: 16 * 1024 * 1024 }, engine: { prefix } }));
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config, '--port', String(port), '--host', '127.0.0.1', '--engine', 'redis', '--redis-url', redisUrl], {
    env: { ...process.env, TIDINGS_TOKEN_SECRET: SECRET, TIDINGS_API_KEY: API_KEY },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  await waitHttp(`http://127.0.0.1:${port}/ready`);
  return { port, child };
}

/** Raw counting subscribers: one connection per channel, frames counted, not parsed. */
async function rawSubscribers(ports, prefix) {
  const token = await signToken(SECRET, { sub: 'counter', ttlSeconds: 3600 });
  let count = 0;
  const sockets = [];
  await Promise.all(
    Array.from({ length: CLIENTS }, (_, i) => new Promise((resolveSub, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${ports[i % ports.length]}/ws`);
      sockets.push(ws);
      let subscribed = false;
      ws.on('open', () => ws.send(JSON.stringify({ id: 1, method: 'connect', params: { token, subs: [{ channel: `${prefix}${i}` }] } })));
      ws.on('message', (data) => {
        if (subscribed) count++;
        else if (data.toString().startsWith('{"id":1,')) (subscribed = true), resolveSub();
      });
      ws.on('error', reject);
    })),
  );
  return { get count() { return count; }, close: () => sockets.forEach((s) => s.terminate()) };
}

function postJson(agent, port, path, body) {
  return new Promise((res, rej) => {
    const text = JSON.stringify(body);
    const req = http.request({ agent, host: '127.0.0.1', port, path, method: 'POST', headers: { authorization: `apikey ${API_KEY}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (r) => {
      r.resume();
      r.on('end', () => (r.statusCode === 200 ? res() : rej(new Error(`HTTP ${r.statusCode}`))));
    });
    req.on('error', rej);
    req.end(text);
  });
}

async function manyChannels(redisUrl, nodeCount) {
  const prefix = `mc${nodeCount}:`;
  const nodes = [];
  for (let i = 0; i < nodeCount; i++) nodes.push(await startNode(redisUrl, prefix));
  const ports = nodes.map((n) => n.port);
  const subs = await rawSubscribers(ports, 'job:');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const payload = 'x'.repeat(150);
  let next = 0;
  const deadline = Date.now() + SECONDS * 1000;
  const worker = async (w) => {
    while (Date.now() < deadline) {
      const i = next++;
      await postJson(agent, ports[w % ports.length], '/api/publish', { channel: `job:${i % CLIENTS}`, data: { i, payload } });
    }
  };
  const startCount = subs.count;
  const t0 = Date.now();
  await Promise.all(Array.from({ length: 64 }, (_, w) => worker(w)));
  await new Promise((r) => setTimeout(r, 300));
  const rate = Math.round((subs.count - startCount) / ((Date.now() - t0) / 1000));
  subs.close();
  agent.destroy();
  for (const n of nodes) n.child.kill('SIGKILL');
  return { nodes: nodeCount, published: next, delivered: subs.count - startCount, rate };
}

async function balancer(ports) {
  let next = 0;
  const server = createServer((client) => {
    client.on('error', () => {});
    client.pause();
    const attempt = (left) => {
      if (left === 0) return client.destroy();
      const up = connect(ports[next++ % ports.length], '127.0.0.1');
      up.once('error', () => attempt(left - 1));
      up.once('connect', () => {
        up.removeAllListeners('error');
        up.on('error', () => client.destroy());
        up.on('close', () => client.destroy());
        client.on('close', () => up.destroy());
        client.pipe(up);
        up.pipe(client);
        client.resume();
      });
    };
    attempt(ports.length);
  });
  await new Promise((r) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, r));
  return { url: `ws://127.0.0.1:${server.address().port}/ws`, close: () => server.close() };
}

async function killRecovery(redisUrl) {
  const a = await startNode(redisUrl, 'kill:');
  const b = await startNode(redisUrl, 'kill:');
  const lb = await balancer([a.port, b.port]);
  const counts = new Array(CLIENTS).fill(0);
  let lost = 0;
  const clients = [];
  for (let i = 0; i < CLIENTS; i++) {
    const client = createClient({ url: lb.url, getToken: () => signToken(SECRET, { sub: `u${i}`, ttlSeconds: 3600 }) });
    client.subscribe('news', {
      onPublication: () => counts[i]++,
      onSubscribed: (ctx) => {
        if (ctx.wasRecovering && !ctx.recovered) lost++;
      },
    });
    client.connect();
    clients.push(client);
  }
  await Promise.all(clients.map((c) => c.ready(30_000)));
  await new Promise((r) => setTimeout(r, 500));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  for (let i = 0; i < 10; i++) await postJson(agent, b.port, '/api/publish', { channel: 'news', data: { i } });
  const t0 = performance.now();
  a.child.kill('SIGKILL');
  for (let i = 10; i < 30; i++) await postJson(agent, b.port, '/api/publish', { channel: 'news', data: { i } });
  while (counts.some((c) => c < 30) && performance.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 5));
  const ms = performance.now() - t0;
  const complete = counts.filter((c) => c === 30).length;
  for (const c of clients) c.disconnect();
  agent.destroy();
  lb.close();
  b.child.kill('SIGKILL');
  return { ms, complete, lost, duplicatesOrExtra: counts.filter((c) => c > 30).length };
}

try {
  const redis = await startRedis();
  children.push({ kill: () => void redis.stop() });
  const redisUrl = redis.url;
  const one = await manyChannels(redisUrl, 1);
  const two = await manyChannels(redisUrl, 2);
  console.log(`node ${process.version}; ${CLIENTS} connections each on its own channel; HTTP API publishes, 64 in flight, ${SECONDS}s; redis-server local`);
  console.log(`one node : ${one.rate} deliveries/s (${one.delivered} delivered of ${one.published} published)`);
  console.log(`two nodes: ${two.rate} deliveries/s (${two.delivered} delivered of ${two.published} published), ratio ${(two.rate / one.rate).toFixed(2)}`);
  const kill = await killRecovery(redisUrl);
  console.log(`SIGKILL one of two nodes with ${CLIENTS} clients (about half on it): all recovered in ${kill.ms.toFixed(0)} ms; complete ${kill.complete}/${CLIENTS}, recovered:false ${kill.lost}, over-delivered ${kill.duplicatesOrExtra}`);
} finally {
  for (const c of children) c.kill('SIGKILL');
}
