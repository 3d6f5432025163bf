/**
 * Webhook figures, one gateway in this process and a receiver on loopback:
 *
 *   publish rate: N client publications, 100 in flight, with webhooks off
 *                 and with every publication queued as an event;
 *   delivery:     from the first publication to the last event acknowledged
 *                 by the receiver (events per second), and the requests used.
 *
 * On the memory engine, and on Redis when --redis URL is given.
 * Usage: node bench/webhooks.mjs [--count 5000] [--redis redis://127.0.0.1:6379]
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { Gateway, makeConfig, signToken } from '@tidings/server';

const SECRET = 'bench-secret-0123456789-0123456789-abc';
const HOOK_SECRET = 'bench-webhook-secret-0123';
const { values } = parseArgs({ options: { count: { type: 'string', default: '5000' }, redis: { type: 'string' } } });
const COUNT = Number(values.count);

async function receiver() {
  const state = { events: 0, requests: 0 };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      state.requests++;
      state.events += JSON.parse(body).events.filter((e) => e.name === 'client_publication').length;
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { state, url: `http://127.0.0.1:${server.address().port}/hooks`, close: () => new Promise((r) => server.close(r)) };
}

async function peer(port) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  await new Promise((r) => ws.once('open', r));
  let next = 1;
  const waiting = new Map();
  ws.on('message', (d) => {
    const f = JSON.parse(d.toString());
    waiting.get(f.id)?.(f);
    waiting.delete(f.id);
  });
  const call = (method, params) => new Promise((r) => (waiting.set(next, r), ws.send(JSON.stringify({ id: next++, method, params }))));
  await call('connect', { token: await signToken(SECRET, { sub: 'bench', ttlSeconds: 600 }) });
  await call('subscribe', { channel: 'room:bench' });
  return { call, close: () => ws.close() };
}

async function run(engineName, webhooks) {
  const rx = await receiver();
  const engine = engineName === 'redis' ? { type: 'redis', redisUrl: values.redis, prefix: `bench${Date.now()}:` } : { type: 'memory' };
  const config = makeConfig({
    host: '127.0.0.1', port: 0, apiKey: 'bench-api-key-0123456789', token: { hmacSecret: SECRET }, log: { level: 'warn' }, engine,
    namespaces: { room: { publish: 'subscribers', history: false } },
    client: { commandRate: 1_000_000, commandBurst: 1_000_000 }, // one client publishing as fast as it can
    ...(webhooks ? { webhooks: { url: rx.url, secret: HOOK_SECRET } } : {}),
  });
  const gw = new Gateway({ config });
  const port = await gw.listen();
  const p = await peer(port);
  for (let i = 0; i < 200; i++) await p.call('publish', { channel: 'room:bench', data: { i } }); // warm-up
  const base = rx.state.events;
  const start = process.hrtime.bigint();
  let sent = 0;
  const lane = async () => {
    while (sent < COUNT) await p.call('publish', { channel: 'room:bench', data: { i: sent++, text: 'a chat message of ordinary length' } });
  };
  await Promise.all(Array.from({ length: 100 }, lane));
  const published = Number(process.hrtime.bigint() - start) / 1e6;
  let delivered = NaN;
  if (webhooks) {
    const deadline = Date.now() + 120_000;
    while (rx.state.events - base < COUNT && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    delivered = Number(process.hrtime.bigint() - start) / 1e6;
  }
  p.close();
  await gw.close(2000);
  await rx.close();
  return { engine: engineName, webhooks, publishesPerSecond: Math.round((COUNT * 1000) / published), eventsPerSecond: webhooks ? Math.round((COUNT * 1000) / delivered) : '-', requests: rx.state.requests };
}

const rows = [];
for (const engine of values.redis ? ['memory', 'redis'] : ['memory']) {
  rows.push(await run(engine, false));
  rows.push(await run(engine, true));
}
console.table(rows);
