/**
 * The RPC proxy: methods without a local handler go to an HTTP backend (here
 * a small node:http server standing for a backend in any language), whose
 * NDJSON answer is relayed as chunks and a result. Cancel reaches the backend
 * as a closed request; backend errors, timeouts and garbage reach the client
 * as typed errors.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Client, type TransportName, createClient } from '@tidings/client';
import { type TestGateway, startTestGateway, until } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Call {
  method: string;
  user: string;
  client: string;
  data: any;
  binary?: boolean;
  headers: IncomingMessage['headers'];
  closedAt?: number;
  lines: number;
}

const calls: Call[] = [];

async function readBody(req: IncomingMessage): Promise<any> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return JSON.parse(Buffer.concat(parts).toString());
}

/** The backend: one behaviour per method. */
async function backend(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  const call: Call = { ...body, headers: req.headers, lines: 0 };
  calls.push(call);
  res.on('close', () => {
    if (!res.writableFinished) call.closedAt = Date.now();
  });
  const line = (v: unknown) => {
    call.lines++;
    res.write(`${JSON.stringify(v)}\n`);
  };
  switch (body.method) {
    case 'analyze':
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      for (let i = 0; i < body.data.n; i++) {
        line({ chunk: { stage: i } });
        await sleep(2);
      }
      line({ result: { ok: true, user: body.user } });
      return void res.end();
    case 'slow':
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      for (let i = 0; i < 500 && !res.destroyed; i++) {
        line({ chunk: i });
        await sleep(20);
      }
      return void res.end();
    case 'fail':
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      line({ chunk: 'started' });
      line({ error: { code: 422, message: 'bad audio' } });
      return void res.end();
    case 'status':
      res.writeHead(500, { 'content-type': 'text/plain' });
      return void res.end('oops');
    case 'bytes':
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      line({ chunk: Buffer.from(body.data, 'base64').reverse().toString('base64'), binary: true });
      line({ result: body.binary === true });
      return void res.end();
    case 'noresult':
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      line({ chunk: 1 });
      return void res.end();
    case 'garbage':
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write('this is not json\n');
      return void res.end();
    case 'hang':
      return; // never answers
    default:
      res.writeHead(404, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ error: { code: 104, message: `backend has no ${body.method}` } }));
  }
}

let server: Server;
let t: TestGateway;
let restricted: TestGateway;
let unreachable: TestGateway;

beforeAll(async () => {
  server = createServer((req, res) => void backend(req, res).catch(() => res.destroy()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/rpc`;
  t = await startTestGateway({ rpc: { proxy: { url, timeout: '1s', headers: { 'x-backend-key': 'k-123' } } } });
  t.gw.rpc('local', () => 'handled here');
  restricted = await startTestGateway({ rpc: { proxy: { url, methods: ['analyze'] } } });
  unreachable = await startTestGateway({ rpc: { proxy: { url: 'http://127.0.0.1:9/rpc' } } });
});
afterAll(async () => {
  for (const g of [t, restricted, unreachable]) await g?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

async function connected(g: TestGateway, kind: TransportName, user: string): Promise<Client> {
  const client = createClient({ url: g.wsUrl, transports: [kind], getToken: () => g.token(user) });
  client.connect();
  await client.ready(5000);
  return client;
}

describe('rpc proxy to an HTTP backend', () => {
  it('streams the backend NDJSON as chunks then the result, over both transports', async () => {
    for (const kind of ['websocket', 'sse'] as TransportName[]) {
      const client = await connected(t, kind, `prox-${kind}`);
      const chunks: unknown[] = [];
      const res = await client.rpc('analyze', { n: 10 }, { onChunk: (c) => void chunks.push(c) });
      expect(res.data).toEqual({ ok: true, user: `prox-${kind}` });
      expect(chunks).toEqual(Array.from({ length: 10 }, (_, i) => ({ stage: i })));
      const call = calls.filter((c) => c.method === 'analyze').at(-1)!;
      expect(call).toMatchObject({ user: `prox-${kind}`, data: { n: 10 } });
      expect(call.client).toBe(client.session?.client);
      expect(call.headers['x-backend-key']).toBe('k-123');
      expect((await client.rpc('local')).data).toBe('handled here');
      client.disconnect();
    }
  });

  it('cancel reaches the backend: its request is closed, and no chunk arrives after the abort', async () => {
    for (const kind of ['websocket', 'sse'] as TransportName[]) {
      const client = await connected(t, kind, `cancel-prox-${kind}`);
      const ac = new AbortController();
      const chunks: unknown[] = [];
      const call = client.rpc('slow', null, { signal: ac.signal, onChunk: (c) => void chunks.push(c) });
      await until(() => chunks.length >= 3, 5000, 'chunks from the backend');
      const abortTime = Date.now();
      ac.abort();
      await expect(call).rejects.toMatchObject({ code: 5 });
      const n = chunks.length;
      const backendCall = calls.filter((c) => c.method === 'slow').at(-1)!;
      await until(() => backendCall.closedAt !== undefined, 2000, 'backend saw the cancel');
      expect(backendCall.closedAt! - abortTime).toBeLessThan(200);
      await sleep(100);
      expect(chunks.length).toBe(n);
      client.disconnect();
    }
  });

  it('relays backend errors, bytes, and refuses what it cannot read', async () => {
    const client = await connected(t, 'websocket', 'prox-errors');
    const chunks: unknown[] = [];
    await expect(client.rpc('fail', null, { onChunk: (c) => void chunks.push(c) })).rejects.toMatchObject({ code: 422, message: 'bad audio' });
    expect(chunks).toEqual(['started']);
    await expect(client.rpc('status')).rejects.toMatchObject({ code: 114, message: 'rpc backend answered HTTP 500' });
    await expect(client.rpc('unknown-method')).rejects.toMatchObject({ code: 104, message: 'backend has no unknown-method' });
    await expect(client.rpc('noresult')).rejects.toMatchObject({ code: 114, message: 'rpc backend ended without a result' });
    await expect(client.rpc('garbage')).rejects.toMatchObject({ code: 114 });
    await expect(client.rpc('hang', null, { timeout: 5000 })).rejects.toMatchObject({ code: 114, message: 'rpc backend timed out' });
    const bytes: unknown[] = [];
    const res = await client.rpc('bytes', new Uint8Array([1, 2, 3]), { onChunk: (c) => void bytes.push(c) });
    expect(res.data).toBe(true);
    expect(bytes.map((b) => Array.from(b as Uint8Array))).toEqual([[3, 2, 1]]);
    expect(t.gw.connections).toBeGreaterThan(0);
    client.disconnect();
  });

  it('proxies only the listed methods, and says plainly when the backend is unreachable', async () => {
    const a = await connected(restricted, 'websocket', 'restricted');
    expect((await a.rpc('analyze', { n: 1 })).data).toEqual({ ok: true, user: 'restricted' });
    await expect(a.rpc('slow')).rejects.toMatchObject({ code: 104 });
    a.disconnect();
    const b = await connected(unreachable, 'websocket', 'nobody-home');
    await expect(b.rpc('anything')).rejects.toMatchObject({ code: 113, temporary: true });
    b.disconnect();
  });
});
