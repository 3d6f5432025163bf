/**
 * The HTTP fast lane (http/fast-lane) on a real gateway: pipelined requests
 * answered in order, a client that does not read its answers held to a
 * bound, an incomplete request finished by node:http, idle keep-alive
 * connections closed, the drain, and WebSocket upgrades it takes or leaves
 * to node:http. (fast-lane.property.test.ts compares its answers with
 * node:http's.)
 */
import { connect } from 'node:net';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY, RawPeer, type TestGateway, startTestGateway, until } from './helpers.js';
import { exchange } from './raw-http.js';

let t: TestGateway | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function publishRequest(channel: string, data: unknown): string {
  const body = JSON.stringify({ channel, data });
  return `POST /api/publish HTTP/1.1\r\nHost: h\r\nAuthorization: apikey ${API_KEY}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

const offsets = (answers: Array<{ body: string }>) => answers.map((a) => (JSON.parse(a.body) as { offset: number }).offset);

describe('HTTP fast lane', () => {
  it('answers 300 publishes pipelined in one write, in order, one offset each', async () => {
    t = await startTestGateway();
    const all = Array.from({ length: 300 }, (_, i) => publishRequest('pipe', { i })).join('');
    const { answers } = await exchange(t.port, [Buffer.from(all)], 300);
    expect(answers.map((a) => a.status)).toEqual(Array(300).fill(200));
    expect(offsets(answers)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  });

  it('stops reading from a client that does not read its answers, serves others meanwhile, and loses nothing', async () => {
    t = await startTestGateway();
    const n = 20_000;
    const socket = connect({ host: '127.0.0.1', port: t.port });
    await new Promise((r) => socket.once('connect', r));
    socket.pause(); // not reading: answers pile up in the kernel, then in the gateway's socket
    for (let i = 0; i < n; i += 1000) socket.write(Array.from({ length: 1000 }, (_, k) => publishRequest('slow', { i: i + k })).join(''));
    await sleep(300);
    // Another client is answered at once.
    expect((await t.api('/api/publish', { channel: 'other', data: 1 })).status).toBe(200);
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.resume();
    await until(() => text.split('HTTP/1.1 200').length - 1 === n, 30_000, () => `${text.split('HTTP/1.1 200').length - 1} of ${n} answers`);
    const seen = [...text.matchAll(/"offset":(\d+)/g)].map((m) => Number(m[1]));
    expect(seen).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    socket.destroy();
  });

  it('holds a client that pipelines large answers and does not read them to a bounded backlog', async () => {
    t = await startTestGateway({ namespaces: { big: { history: { size: 100, ttl: '1h' } } } });
    for (let i = 0; i < 100; i++) await t.publish('big:one', { i, pad: 'x'.repeat(2000) });
    const body = JSON.stringify({ channel: 'big:one' });
    const history = `POST /api/history HTTP/1.1\r\nHost: h\r\nAuthorization: apikey ${API_KEY}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const n = 300; // about 200 KB each: 60 MB if the gateway took them all, far more than loopback's socket buffers
    const socket = connect({ host: '127.0.0.1', port: t.port });
    await new Promise((r) => socket.once('connect', r));
    socket.pause();
    socket.write(history.repeat(n));
    let most = 0;
    for (let i = 0; i < 50; i++, await sleep(10)) most = Math.max(most, t.gw.stats().maxApiBacklogBytes);
    expect(most).toBeGreaterThan(0);
    // At most 32 answers taken ahead (6.6 MB here) and 64 KiB more; not all 300.
    expect(most).toBeLessThan(8 * 1024 * 1024);
    let answers = 0;
    // A status line may be cut between two chunks: each chunk is searched with the end of the one before
    // (shorter than the line, so no line is counted twice).
    const STATUS = 'HTTP/1.1 200';
    let tail = '';
    socket.on('data', (d: Buffer) => {
      const text = tail + d.toString('latin1');
      answers += text.split(STATUS).length - 1;
      tail = text.slice(-(STATUS.length - 1));
    });
    socket.resume();
    await until(() => answers === n, 45_000, () => `${answers} of ${n} answers`);
    socket.destroy();
  }, 60_000);

  it('hands a request that arrives too slowly to node:http, which answers it and the next one', async () => {
    t = await startTestGateway();
    const first = publishRequest('slowly', 1);
    const cut = first.indexOf('\r\n\r\n') + 4;
    const pieces = [first.slice(0, cut), first.slice(cut), publishRequest('slowly', 2)].map((s) => Buffer.from(s));
    const { answers } = await exchange(t.port, pieces, 2, { pauseMs: 400 });
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(offsets(answers)).toEqual([1, 2]);
  });

  it('closes a keep-alive connection left idle for the server keep-alive timeout (5 s), as node:http does', async () => {
    t = await startTestGateway();
    const started = Date.now();
    const { answers, closed } = await exchange(t.port, [Buffer.from(publishRequest('idle', 1))], 2, { timeoutMs: 8000 });
    expect(answers).toHaveLength(1);
    expect(answers[0]!.headers['keep-alive']).toBe('timeout=5');
    expect(closed).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4900);
  }, 15_000);

  it('closes its connections when the gateway drains', async () => {
    t = await startTestGateway();
    const socket = connect({ host: '127.0.0.1', port: t.port });
    let text = '';
    socket.on('data', (d) => (text += d));
    const closed = new Promise((r) => socket.on('close', r));
    socket.write(publishRequest('drain', 1));
    await until(() => text.includes('"offset":1'));
    await t.close();
    t = undefined;
    await closed;
  });

  it('takes WebSocket upgrades whole or in pieces, and leaves odd ones to node:http: all connect', async () => {
    t = await startTestGateway();
    const token = await t.token('u1');
    // A client library's upgrade, in one write.
    const peer = await new RawPeer(t.wsUrl).open();
    expect((await peer.call('connect', { token })).error).toBeUndefined();
    peer.close();
    // The same upgrade in two pieces, and with a header sent twice (node:http's to judge).
    for (const extra of [[], ['X-Twice: 1', 'X-Twice: 2']]) {
      for (const pause of [0, 30]) {
        const key = Buffer.alloc(16, pause + extra.length).toString("base64");
        const head = ['GET /ws HTTP/1.1', 'Host: h', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13', ...extra, '', ''].join('\r\n');
        const { text } = await rawUpgrade(t.port, [head.slice(0, 20), head.slice(20)], pause);
        expect(text).toMatch(/^HTTP\/1\.1 101 /);
      }
    }
  });

  it('applies the upgrade rules to upgrades it takes: a wrong path is 404, a wrong origin 403', async () => {
    t = await startTestGateway({ client: { allowedOrigins: ['https://app.example'] } });
    const upgrade = (path: string, origin: string) =>
      ['GET ' + path + ' HTTP/1.1', 'Host: h', 'Upgrade: websocket', 'Connection: keep-alive, Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', `Origin: ${origin}`, '', ''].join('\r\n');
    expect((await rawUpgrade(t.port, [upgrade('/nope', 'https://app.example')], 0)).text).toMatch(/^HTTP\/1\.1 404 /);
    expect((await rawUpgrade(t.port, [upgrade('/ws', 'https://evil.example')], 0)).text).toMatch(/^HTTP\/1\.1 403 /);
    const ok = new WebSocket(t.wsUrl, { headers: { origin: 'https://app.example' } });
    await new Promise((resolve, reject) => {
      ok.once('open', resolve);
      ok.once('error', reject);
    });
    ok.close();
  });
});

/** Send an upgrade request in `pieces`, `pauseMs` apart; what came back within a moment. */
async function rawUpgrade(port: number, pieces: string[], pauseMs: number): Promise<{ text: string }> {
  const socket = connect({ host: '127.0.0.1', port, noDelay: true });
  let text = '';
  socket.on('data', (d) => (text += d.toString('latin1')));
  socket.on('error', () => {});
  await new Promise((r) => socket.once('connect', r));
  for (const p of pieces) {
    socket.write(p);
    await sleep(pauseMs);
  }
  await until(() => text.includes('\r\n\r\n'), 3000, 'an answer to the upgrade');
  socket.destroy();
  return { text };
}
