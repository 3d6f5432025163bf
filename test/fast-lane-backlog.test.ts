/**
 * How far the fast lane reads ahead of its answers on one connection
 * (http/fast-lane/connection.ts), on a real socket with a host whose answers
 * stay pending until the test settles them: up to 256 requests with small
 * answers (publishes, which may wait on a Redis round trip), 32 whose answer
 * may be large, and bodies adding up to 1 MiB. Then, once answered, every
 * request is still taken and answered, in order.
 */
import { type Server, type Socket, connect, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LaneConnection, type LaneHost } from '../packages/server/src/http/fast-lane/connection.js';
import type { RequestHead } from '../packages/server/src/http/fast-lane/request.js';
import { until } from './helpers.js';

interface Pending {
  body: string;
  resolve: (value: unknown) => void;
}

let server: Server | undefined;
let client: Socket | undefined;
afterEach(async () => {
  client?.destroy();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = client = undefined;
});

/** A lane connection per accepted socket; every answer pending until settled. */
async function lane(): Promise<{ pending: Pending[]; port: number }> {
  const pending: Pending[] = [];
  const host: LaneHost = {
    limits: { maxHeadBytes: 16 * 1024, maxBodyBytes: 512 * 1024 },
    keepAliveSeconds: 5,
    answer: (_head: RequestHead, body: string) => new Promise((resolve) => pending.push({ body, resolve })),
    smallAnswer: (head: RequestHead) => head.target === '/api/publish',
    failed: () => {},
    upgrade: () => {},
    toNode: (socket) => socket.destroy(),
    forget: () => {},
  };
  server = createServer((socket) => new LaneConnection(socket, host));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const address = server.address();
  return { pending, port: typeof address === 'object' && address ? address.port : 0 };
}

function request(path: string, body: string): string {
  return `POST ${path} HTTP/1.1\r\nHost: h\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** Send `n` requests in one write; returns the answers' bodies as they arrive. */
async function pipeline(port: number, path: string, n: number, body: (i: number) => string): Promise<{ bodies: () => string[] }> {
  client = connect({ host: '127.0.0.1', port });
  await new Promise((r) => client!.once('connect', r));
  let text = '';
  client.on('data', (d: Buffer) => (text += d.toString('latin1')));
  client.write(Array.from({ length: n }, (_, i) => request(path, body(i))).join(''));
  return { bodies: () => text.split('HTTP/1.1 200 OK').slice(1).map((a) => a.slice(a.indexOf('\r\n\r\n') + 4)) };
}

/** Wait until the host has been asked `want` answers and no more come for a while. */
async function settledAt(pending: Pending[], want: number): Promise<void> {
  await until(() => pending.length >= want, 5000, () => `${pending.length} of ${want} requests taken`);
  await new Promise((r) => setTimeout(r, 100));
}

/** Answer every pending request (each with its body) until `n` were answered; the answers must come back in order. */
async function answerAll(pending: Pending[], n: number, bodies: () => string[]): Promise<void> {
  let answered = 0;
  await until(
    () => {
      while (answered < pending.length) pending[answered]!.resolve(JSON.parse(pending[answered++]!.body));
      return bodies().length === n;
    },
    10_000,
    () => `${bodies().length} of ${n} answers`,
  );
  expect(bodies().map((b) => (JSON.parse(b) as { i: number }).i)).toEqual(Array.from({ length: n }, (_, i) => i));
}

const PAD = 'x'.repeat(200 * 1024);

describe('fast lane read-ahead', () => {
  it.each([
    { what: 'up to 256 publishes', path: '/api/publish', n: 400, pad: '', taken: 256 },
    { what: 'only 32 requests whose answers may be large', path: '/api/history', n: 100, pad: '', taken: 32 },
    // 5 bodies of about 200 KiB are under 1 MiB, the 6th reaches it.
    { what: 'publishes until their pending bodies reach 1 MiB', path: '/api/publish', n: 20, pad: PAD, taken: 6 },
  ])('takes $what ahead of their answers, then all, in order', async ({ path, n, pad, taken }) => {
    const { pending, port } = await lane();
    const { bodies } = await pipeline(port, path, n, (i) => JSON.stringify({ i, pad }));
    await settledAt(pending, taken);
    expect(pending.length).toBe(taken);
    await answerAll(pending, n, bodies);
  });
});
