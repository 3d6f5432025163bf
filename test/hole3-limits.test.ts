/**
 * Hole 3 of issue 13, scaled down: connections per node, per source address
 * (with trusted proxies) and per user are capped with documented statuses and
 * codes; requests whose headers or body stall, and refused requests whose
 * client keeps sending, lose their socket. Bounded in count and time, on
 * 127.0.0.1 (other loopback addresses stand for other clients).
 */
import { type Socket, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY, type TestGateway, connectedPeer, startTestGateway, until } from './helpers.js';

let gateways: TestGateway[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

async function gateway(limits: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<TestGateway> {
  const t = await startTestGateway({ limits, ...extra });
  gateways.push(t);
  return t;
}

/** A raw TCP socket from `from`, collecting what it reads; `closed` resolves when the server ends it. */
function rawSocket(port: number, from = '127.0.0.1') {
  const socket = connect({ host: '127.0.0.1', port, localAddress: from });
  sockets.push(socket);
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (text += d));
  socket.on('error', () => {});
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  const opened = new Promise<void>((r) => socket.once('connect', () => r()));
  return {
    socket,
    opened,
    closed,
    get text() {
      return text;
    },
    isClosed: false,
  };
}

/** Send a WebSocket upgrade; resolves with the response's status line code (101 when accepted). */
async function upgrade(port: number, from = '127.0.0.1', headers: Record<string, string> = {}): Promise<{ status: number; raw: ReturnType<typeof rawSocket> }> {
  const raw = rawSocket(port, from);
  await raw.opened;
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  raw.socket.write(
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
  );
  await until(() => raw.text.includes('\r\n\r\n'), 10_000, 'the upgrade answer');
  return { status: Number(raw.text.split(' ')[1]), raw };
}

async function metric(t: TestGateway, line: string): Promise<number> {
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
  const hit = text.split('\n').find((l) => l.startsWith(`${line} `));
  return hit ? Number(hit.split(' ').at(-1)) : NaN;
}

describe('connections per source address (hole 3: 3,000 sockets from one address were all accepted)', () => {
  it('accepts maxConnectionsPerAddress from one address, refuses the rest with 429, and counts again once they close', async () => {
    const t = await gateway({ maxConnectionsPerAddress: 40 });
    const honest = await connectedPeer(t, 'honest'); // from 127.0.0.1 too: it is one of the 40
    await honest.call('subscribe', { channel: 'news' });
    const results: Array<Awaited<ReturnType<typeof upgrade>>> = [];
    for (let i = 0; i < 120; i++) results.push(await upgrade(t.port));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 101)).toHaveLength(39);
    expect(statuses.filter((s) => s === 429)).toHaveLength(81);
    const refused = results.find((r) => r.status === 429)!;
    expect(refused.raw.text).toMatch(/Retry-After: 1/i);
    await refused.raw.closed;

    // Another address is not affected, over either transport.
    expect((await upgrade(t.port, '127.0.0.2')).status).toBe(101);
    const sse = await fetch(`${t.httpUrl}/sse?connect=${encodeURIComponent(JSON.stringify({ token: await t.token('sse') }))}`);
    expect(sse.status).toBe(429);
    expect((await sse.json()).error.code).toBe(106);

    // Close ten of the accepted: ten more get in.
    for (const r of results.filter((r) => r.status === 101).slice(0, 10)) r.raw.socket.destroy();
    await until(() => t.gw.connections <= 40 - 10 + 1, 10_000, 'the closed ones released');
    let again = 0;
    for (let i = 0; i < 12; i++) if ((await upgrade(t.port)).status === 101) again++;
    expect(again).toBe(10);
    expect(await metric(t, 'tidings_refusals_total{transport="websocket",code="429"}')).toBe(81 + 2);
    expect(await metric(t, 'tidings_refusals_total{transport="sse",code="429"}')).toBe(1);

    const pub = await t.publish('news', { still: 'here' });
    await honest.waitFor((f) => f.type === 'pub' && f.offset === pub.offset);
  });

  it('takes the address from X-Forwarded-For only when the peer is a trusted proxy', async () => {
    const t = await gateway({ maxConnectionsPerAddress: 2, trustedProxies: ['127.0.0.1', '10.9.0.0/16'] });
    const via = (client: string) => ({ 'X-Forwarded-For': `${client}, 10.9.3.4` });
    expect((await upgrade(t.port, '127.0.0.1', via('203.0.113.7'))).status).toBe(101);
    expect((await upgrade(t.port, '127.0.0.1', via('203.0.113.7'))).status).toBe(101);
    expect((await upgrade(t.port, '127.0.0.1', via('203.0.113.7'))).status).toBe(429);
    expect((await upgrade(t.port, '127.0.0.1', via('203.0.113.8'))).status).toBe(101);
    // 127.0.0.3 is no proxy of ours: what it claims is ignored, it is counted as itself.
    const spoof = (n: number) => upgrade(t.port, '127.0.0.3', { 'X-Forwarded-For': `198.51.100.${n}` });
    expect([(await spoof(1)).status, (await spoof(2)).status, (await spoof(3)).status]).toEqual([101, 101, 429]);
  });
});

describe('connections per node and per user', () => {
  it('refuses upgrades and SSE streams past maxConnections with 503 and Retry-After', async () => {
    const t = await gateway({ maxConnections: 10, maxConnectionsPerAddress: 0 });
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) statuses.push((await upgrade(t.port, `127.0.0.${10 + i}`)).status);
    expect(statuses.filter((s) => s === 101)).toHaveLength(10);
    expect(statuses.slice(10)).toEqual([503, 503, 503, 503]);
    const sse = await fetch(`${t.httpUrl}/sse?connect=${encodeURIComponent(JSON.stringify({ token: await t.token('x') }))}`);
    expect(sse.status).toBe(503);
    expect(sse.headers.get('retry-after')).toBe('1');
    expect((await sse.json()).error.code).toBe(113);
  });

  it('closes a user\'s connection past client.userConnectionLimit with 3504', async () => {
    const t = await gateway({}, { client: { userConnectionLimit: 2 } });
    await connectedPeer(t, 'ann');
    await connectedPeer(t, 'ann');
    const { RawPeer } = await import('./helpers.js');
    const third = await new RawPeer(t.wsUrl).open();
    third.ws.send(JSON.stringify({ id: 1, method: 'connect', params: { token: await t.token('ann') } }));
    expect((await third.closed).code).toBe(3504);
    expect(await metric(t, 'tidings_refusals_total{transport="websocket",code="3504"}')).toBe(1);
  });
});

describe('slow requests lose their socket (hole 3: dripping bodies held 2,000 sockets for 5 minutes)', () => {
  const DRIP = 60;

  /** `n` sockets that send a request's headers and then one byte of body at a time, until closed. */
  async function drippers(t: TestGateway, n: number, head: string, everyMs: number) {
    const all: Array<ReturnType<typeof rawSocket>> = [];
    for (let i = 0; i < n; i++) {
      const raw = rawSocket(t.port);
      await raw.opened;
      raw.socket.write(head);
      const timer = setInterval(() => raw.socket.writable && raw.socket.write('{'), everyMs);
      raw.closed.then(() => {
        clearInterval(timer);
        raw.isClosed = true;
      });
      all.push(raw);
    }
    return all;
  }

  it('closes bodies that stall on /sse/command and /api/* with 408 after limits.bodyIdleTimeout', async () => {
    const t = await gateway({ bodyIdleTimeout: '300ms' });
    const sse = await drippers(t, DRIP / 2, 'POST /sse/command HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{', 60_000);
    const api = await drippers(t, DRIP / 2, `POST /api/publish HTTP/1.1\r\nHost: x\r\nAuthorization: apikey ${API_KEY}\r\nContent-Length: 5000\r\n\r\n{`, 60_000);
    await until(() => [...sse, ...api].every((r) => r.isClosed), 15_000, 'every stalled body closed');
    for (const r of [...sse, ...api]) expect(r.text).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes bodies that keep dripping past limits.requestTimeout', async () => {
    const t = await gateway({ headersTimeout: '200ms', requestTimeout: '800ms', bodyIdleTimeout: '10s' });
    const all = await drippers(t, 20, 'POST /sse/command HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n', 50);
    await until(() => all.every((r) => r.isClosed), 15_000, 'every slow request closed');
  });

  it('closes sockets whose headers never finish, or never start, within limits.headersTimeout', async () => {
    const t = await gateway({ headersTimeout: '300ms', requestTimeout: '5s' });
    const all: Array<ReturnType<typeof rawSocket>> = [];
    for (let i = 0; i < 20; i++) {
      const raw = rawSocket(t.port);
      await raw.opened;
      // Half of them send part of a request, half nothing at all.
      if (i % 2 === 0) raw.socket.write('GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      raw.closed.then(() => (raw.isClosed = true));
      all.push(raw);
    }
    await until(() => all.every((r) => r.isClosed), 15_000, 'every stalled handshake closed');
  });

  it('answers an unauthenticated API request 401 with Connection: close and closes the socket while the client still sends', async () => {
    const t = await gateway({ bodyIdleTimeout: '30s' });
    const all = await drippers(t, DRIP, 'POST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{', 100);
    await until(() => all.every((r) => r.isClosed), 15_000, 'every refused socket closed');
    for (const r of all) {
      expect(r.text).toMatch(/^HTTP\/1\.1 401 /);
      expect(r.text).toMatch(/\r\nconnection: close\r\n/i);
    }
    // A well-behaved client on a keep-alive connection is unaffected.
    expect((await t.api('/api/info')).status).toBe(200);
  });
});
