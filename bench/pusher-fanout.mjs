// Fan-out to Pusher sockets against native ones on the same gateway, in one process:
// N sockets on one channel, M publications in bursts, deliveries per second until every socket has all.
// Run from the repository root after `npm run build`: node bench/pusher-fanout.mjs [sockets] [publications]
import { Gateway, makeConfig, signToken } from '@tidings/server';
import WebSocket from 'ws';

const SOCKETS = Number(process.argv[2] ?? 500);
const PUBS = Number(process.argv[3] ?? 200);
const SECRET = 'bench-secret-0123456789-abcdefghijklmnop';
const config = makeConfig({
  host: '127.0.0.1', port: 0, apiKey: 'bench-api-key-0123456789', token: { hmacSecret: SECRET }, log: { level: 'silent' },
  client: { commandRate: 10_000, commandBurst: 10_000 },
  pusher: { apps: [{ id: 'bench', key: 'bench-key', secret: 'bench-secret-1234' }] },
});
const gw = new Gateway({ config });
const port = await gw.listen();

function open(url, onOpen, isEvent) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    const s = { ws, got: 0 };
    ws.on('open', () => onOpen(ws));
    ws.on('message', (d) => {
      const text = d.toString();
      if (text.includes('subscription_succeeded') || text.includes('"subs":[{"channel"')) resolve(s);
      else if (isEvent(text)) s.got++;
    });
  });
}

async function run(kind) {
  const sockets = [];
  for (let i = 0; i < SOCKETS; i++) {
    if (kind === 'pusher') {
      sockets.push(open(`ws://127.0.0.1:${port}/app/bench-key?protocol=7`, (ws) => ws.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel: 'feed' } })), (t) => t.startsWith('{"event":"tick"')));
    } else {
      const token = await signToken(SECRET, { sub: `u${i}`, ttlSeconds: 600 });
      sockets.push(open(`ws://127.0.0.1:${port}/ws`, (ws) => {
        ws.send(JSON.stringify({ id: 1, method: 'connect', params: { token, subs: [{ channel: 'pusher.bench:feed' }] } }));
      }, (t) => t.startsWith('{"type":"pub"')));
    }
  }
  const all = await Promise.all(sockets);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < PUBS; i++) {
    await gw.publish('pusher.bench:feed', { event: 'tick', data: { i, pad: 'x'.repeat(100) } });
    if (i % 20 === 19) await new Promise((r) => setImmediate(r));
  }
  const deadline = Date.now() + 120_000;
  while (all.some((s) => s.got < PUBS) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  const delivered = all.reduce((n, s) => n + s.got, 0);
  for (const s of all) s.ws.close();
  await new Promise((r) => setTimeout(r, 300));
  return { kind, sockets: SOCKETS, publications: PUBS, delivered, ms: Math.round(ms), perSecond: Math.round(delivered / (ms / 1000)), cpuMs: Math.round((cpu.user + cpu.system) / 1000) };
}

for (const kind of ['native', 'pusher', 'native', 'pusher']) console.log(JSON.stringify(await run(kind)));
await gw.close(1000);
