/**
 * The WebSocket endpoint without a WebSocket library on the server side, met
 * by a real `ws` client and by hand-written requests on a raw socket: the
 * subprotocol a browser needs echoed, both close handshakes, a refused
 * handshake, and frames that ride in on the upgrade request's own packet.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type TestGateway, startTestGateway, until } from './helpers.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t.close());

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

/** Write `bytes` on a fresh TCP connection and collect what comes back until the server ends it. */
function raw(bytes: Buffer | string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const url = new URL(t.wsUrl);
    const socket = connect(Number(url.port), url.hostname, () => socket.write(bytes));
    const got: Buffer[] = [];
    socket.on('data', (d) => got.push(d));
    socket.on('close', () => resolve(Buffer.concat(got)));
    socket.on('error', reject);
    setTimeout(() => socket.destroy(), 5000).unref();
  });
}

const UPGRADE = (key: string, extra = '') =>
  `GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

describe('WebSocket handshake and close', () => {
  it('agrees to the first subprotocol a client offers, as a browser requires', async () => {
    const ws = new WebSocket(t.wsUrl, ['tidings.v1', 'other']);
    await opened(ws);
    expect(ws.protocol).toBe('tidings.v1');
    const done = closed(ws);
    ws.close();
    expect((await done).code).toBe(1005);
    await until(() => t.gw.connections === 0, 5000, 'connection released');
  });

  it('echoes a client Close with its code and counts the connection gone', async () => {
    const before = t.gw.connections;
    const ws = new WebSocket(t.wsUrl);
    await opened(ws);
    await until(() => t.gw.connections === before + 1, 5000, 'connection counted');
    const done = closed(ws);
    ws.close(4001, 'leaving');
    expect((await done).code).toBe(4001);
    await until(() => t.gw.connections === before, 5000, 'connection released');
  });

  it('closes with 3014 a client that never sends connect, reason included', async () => {
    const short = await startTestGateway({ client: { connectTimeout: '300ms' } });
    try {
      const ws = new WebSocket(short.wsUrl);
      const done = closed(ws);
      await opened(ws);
      const { code, reason } = await done;
      expect(code).toBe(3014);
      expect(reason.length).toBeGreaterThan(0);
    } finally {
      await short.close();
    }
  });

  it('drops a client that sends Close and then never closes its side', async () => {
    const before = t.gw.connections;
    const url = new URL(t.wsUrl);
    const socket = connect({ port: Number(url.port), host: url.hostname, allowHalfOpen: true });
    socket.on('data', () => {});
    const close = Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);
    socket.write(Buffer.concat([Buffer.from(UPGRADE('dGhlIHNhbXBsZSBub25jZQ==')), close]));
    const ended = new Promise((r) => socket.once('end', r));
    await ended;
    // Our side stays open (allowHalfOpen): only the server's grace timer can free the connection.
    await until(() => t.gw.connections === before, 10_000, 'the half-open connection dropped');
    socket.destroy();
  });

  it('refuses a wrong version with 400 and the versions it speaks', async () => {
    const answer = (await raw(UPGRADE('dGhlIHNhbXBsZSBub25jZQ==').replace('Version: 13', 'Version: 7'))).toString();
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer).toContain('Sec-WebSocket-Version: 13, 8');
  });

  it('counts each refused handshake under its own status in tidings_refusals_total', async () => {
    const counted = async (code: number) => {
      const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`tidings_refusals_total{transport="websocket",code="${code}"} `));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    const [before405, before400] = [await counted(405), await counted(400)];
    const post = (await raw(UPGRADE('dGhlIHNhbXBsZSBub25jZQ==').replace('GET /ws', 'POST /ws'))).toString();
    expect(post).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n/);
    const badKey = (await raw(UPGRADE('not-a-key'))).toString();
    expect(badKey).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(badKey).not.toMatch(/Retry-After/i);
    expect(await counted(405)).toBe(before405 + 1);
    expect(await counted(400)).toBe(before400 + 1);
  });

  it('reads a frame that arrives in the same packet as the upgrade request', async () => {
    // A masked ping ("hi") right behind the request: the server must answer 101, then a pong carrying "hi".
    const ping = Buffer.from([0x89, 0x82, 1, 2, 3, 4, 'h'.charCodeAt(0) ^ 1, 'i'.charCodeAt(0) ^ 2]);
    const close = Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);
    const answer = await raw(Buffer.concat([Buffer.from(UPGRADE('dGhlIHNhbXBsZSBub25jZQ==')), ping, close]));
    const head = answer.indexOf('\r\n\r\n') + 4;
    expect(answer.subarray(0, head).toString()).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    // The pong, then the Close echoing 1000.
    expect([...answer.subarray(head)]).toEqual([0x8a, 2, 0x68, 0x69, 0x88, 2, 0x03, 0xe8]);
  });
});
