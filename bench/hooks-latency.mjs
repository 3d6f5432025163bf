/**
 * What a proxy hook costs a client: the round trip of a `subscribe` and of a
 * `publish` (reply received) on one WebSocket, without a hook, through a hook
 * backend on loopback (node:http, answering at once), and for a subscribe
 * again with the answer cached. The gateway and the backend run in this process; the
 * client is a raw `ws` socket, so only the gateway's work is measured.
 *
 * Usage: node bench/hooks-latency.mjs [--rounds 500]
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { Gateway, makeConfig, signToken } from '@tidings/server';

const SECRET = 'bench-secret-0123456789-0123456789-abc';
const HOOK_SECRET = 'bench-hook-secret-0123456789-0123456789';
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '500' } } });
const rounds = Number(values.rounds);

async function startBackend() {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = req.url === '/publish' ? '{"result":{"data":{"id":1,"text":"hi"}}}' : '{"result":{}}';
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${server.address().port}` };
}

async function startGateway(backendUrl) {
  const hook = (path, extra = {}) => ({ url: `${backendUrl}${path}`, ...extra });
  const config = makeConfig({
    host: '127.0.0.1',
    port: 0,
    apiKey: 'bench-api-key-0123456789',
    token: { hmacSecret: SECRET },
    log: { level: 'warn' },
    client: { commandRate: 100_000, commandBurst: 100_000, channelLimit: 100_000 },
    namespaces: { plain: { publish: 'authenticated', history: false }, hooked: { publish: 'authenticated', history: false }, cached: {} },
    hooks: {
      secret: HOOK_SECRET,
      namespaces: {
        hooked: { subscribe: hook('/subscribe'), publish: hook('/publish') },
        cached: { subscribe: hook('/subscribe', { cacheTtl: '1h' }) },
      },
    },
  });
  const gw = new Gateway({ config });
  return { gw, port: await gw.listen() };
}

function peer(port) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  let next = 1;
  const waiting = new Map();
  ws.on('message', (d) => {
    const f = JSON.parse(d.toString());
    if (f.id !== undefined) waiting.get(f.id)?.(f);
  });
  const call = (method, params) =>
    new Promise((resolve) => {
      const id = next++;
      waiting.set(id, (f) => {
        waiting.delete(id);
        resolve(f);
      });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return new Promise((r) => ws.once('open', () => r({ ws, call })));
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function measure(name, op) {
  for (let i = 0; i < 20; i++) await op(-1 - i); // warm-up
  const ms = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    const f = await op(i);
    ms.push(performance.now() - t0);
    if (f.error) throw new Error(`${name}: ${JSON.stringify(f.error)}`);
  }
  ms.sort((a, b) => a - b);
  console.log(`| ${name} | ${pct(ms, 50).toFixed(3)} | ${pct(ms, 99).toFixed(3)} |`);
}

const backend = await startBackend();
const { gw, port } = await startGateway(backend.url);
const p = await peer(port);
const hello = await p.call('connect', { token: await signToken(SECRET, { sub: 'bench', ttlSeconds: 3600 }) });
if (!hello.result) throw new Error(`connect failed: ${JSON.stringify(hello.error)}`);
console.log(`${rounds} sequential operations each, one connection\n\n| operation | p50 ms | p99 ms |\n|---|---:|---:|`);
await measure('subscribe, no hook', (i) => p.call('subscribe', { channel: `plain:s${i}` }));
await measure('subscribe, hook', (i) => p.call('subscribe', { channel: `hooked:s${i}` }));
const again = (channel) => async () => {
  await p.call('unsubscribe', { channel });
  return p.call('subscribe', { channel });
};
await measure('unsubscribe + subscribe again, no hook', again('plain:one'));
await measure('unsubscribe + subscribe again, hook cached', again('cached:one'));
await measure('publish, no hook', () => p.call('publish', { channel: 'plain:chat', data: { text: 'hi' } }));
await measure('publish, hook rewrites', () => p.call('publish', { channel: 'hooked:chat', data: { text: 'hi' } }));
p.ws.close();
await gw.close(1000);
backend.server.close();
