/**
 * RPC with streamed replies, over the WebSocket and over SSE through the same
 * client API: identical chunk sequences, one connection for many calls,
 * cancel that reaches the handler's AbortSignal, calls in parallel, typed
 * errors, timeouts, and bytes without base64 over the WebSocket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Client, type TransportName, createClient } from '@tidings/client';
import { encodeBinaryFrame, splitBinaryFrame } from '@tidings/protocol';
import { RpcError } from '@tidings/server';
import { type TestGateway, startTestGateway, until } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TRANSPORTS: TransportName[] = ['websocket', 'sse'];

let t: TestGateway;
/** When each `forever` handler saw its signal fire, by call tag. */
const abortedAt = new Map<string, number>();
const chunksSent = new Map<string, number>();

beforeAll(async () => {
  t = await startTestGateway();
  t.gw.rpc('count', async function* (n, ctx) {
    for (let i = 0; i < (n as number); i++) yield { i, user: ctx.user };
    return { total: n };
  });
  t.gw.rpc('forever', async function* (tag, ctx) {
    ctx.signal.addEventListener('abort', () => abortedAt.set(tag as string, Date.now()));
    for (let i = 0; i < 500 && !ctx.signal.aborted; i++) {
      chunksSent.set(tag as string, i + 1);
      yield i;
      await sleep(10);
    }
    return 'never';
  });
  t.gw.rpc('delay', async (ms) => {
    await sleep(ms as number);
    return ms;
  });
  t.gw.rpc('deny', () => {
    throw new RpcError(403, 'not for you');
  });
  t.gw.rpc('half', async function* () {
    yield 1;
    yield 2;
    throw new Error('boom');
  });
  t.gw.rpc('reverse', (data) => Uint8Array.from(data as Uint8Array).reverse());
  t.gw.rpc('bytes', async function* (n) {
    for (let i = 0; i < (n as number); i++) yield new Uint8Array([i, i + 1, i + 2]);
    return new Uint8Array(0);
  });
});
afterAll(() => t.close());

async function connected(kind: TransportName, user: string): Promise<Client> {
  const client = createClient({ url: t.wsUrl, transports: [kind], getToken: () => t.token(user) });
  client.connect();
  await client.ready(5000);
  expect(client.transport).toBe(kind);
  return client;
}

describe('rpc with streamed replies', () => {
  it('streams 20 chunks then a result, identically over WebSocket and SSE', async () => {
    const seen: Record<string, unknown[]> = {};
    for (const kind of TRANSPORTS) {
      const client = await connected(kind, `stream-${kind}`);
      const chunks: unknown[] = [];
      const res = await client.rpc('count', 20, { onChunk: (c) => void chunks.push(c) });
      expect(res.data).toEqual({ total: 20 });
      seen[kind] = chunks.map((c) => (c as { i: number }).i);
      client.disconnect();
    }
    expect(seen.websocket).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(seen.sse).toEqual(seen.websocket);
  });

  it('runs ten sequential RPCs on one connection: one handshake (WebSocket) or one stream (SSE)', async () => {
    for (const kind of TRANSPORTS) {
      const before = t.gw.stats();
      const client = await connected(kind, `ten-${kind}`);
      for (let i = 0; i < 10; i++) expect((await client.rpc('count', 3)).data).toEqual({ total: 3 });
      const after = t.gw.stats();
      expect(after.handshakes - before.handshakes).toBe(kind === 'websocket' ? 1 : 0);
      expect(after.sseStreams - before.sseStreams).toBe(kind === 'sse' ? 1 : 0);
      client.disconnect();
    }
  });

  it('cancels: the handler sees its signal within 100 ms of the abort, and no chunk arrives after', async () => {
    for (const kind of TRANSPORTS) {
      const client = await connected(kind, `cancel-${kind}`);
      const tag = `c-${kind}`;
      const ac = new AbortController();
      const chunks: number[] = [];
      const call = client.rpc('forever', tag, { signal: ac.signal, onChunk: (c) => void chunks.push(c as number) });
      await until(() => chunks.length >= 3, 5000, 'three chunks');
      const abortTime = Date.now();
      ac.abort();
      await expect(call).rejects.toMatchObject({ code: 5 });
      const countAtAbort = chunks.length;
      await until(() => abortedAt.has(tag), 2000, 'handler signal');
      expect(abortedAt.get(tag)! - abortTime).toBeLessThan(100);
      await sleep(150);
      expect(chunks.length).toBe(countAtAbort);
      expect(chunksSent.get(tag)!).toBeLessThan(countAtAbort + 20); // the handler stopped too
      client.disconnect();
    }
  });

  it('keeps many calls in flight on one connection and matches each reply to its call', async () => {
    for (const kind of TRANSPORTS) {
      const client = await connected(kind, `many-${kind}`);
      const delays = Array.from({ length: 30 }, (_, i) => (i * 7) % 50);
      const results = await Promise.all(delays.map((ms) => client.rpc('delay', ms)));
      expect(results.map((r) => r.data)).toEqual(delays);
      client.disconnect();
    }
  });

  it('gives typed errors, keeps chunks sent before a failure, and survives crashing handlers', async () => {
    for (const kind of TRANSPORTS) {
      const client = await connected(kind, `errors-${kind}`);
      await expect(client.rpc('deny')).rejects.toMatchObject({ code: 403, message: 'not for you' });
      await expect(client.rpc('missing')).rejects.toMatchObject({ code: 104 });
      const chunks: unknown[] = [];
      await expect(client.rpc('half', null, { onChunk: (c) => void chunks.push(c) })).rejects.toMatchObject({ code: 114 });
      expect(chunks).toEqual([1, 2]);
      expect((await client.rpc('count', 1)).data).toEqual({ total: 1 });
      client.disconnect();
    }
  });

  it('times out a call, and cancels it on the server', async () => {
    for (const kind of TRANSPORTS) {
      const client = await connected(kind, `timeout-${kind}`);
      const tag = `t-${kind}`;
      await expect(client.rpc('forever', tag, { timeout: 100 })).rejects.toMatchObject({ code: 1 });
      await until(() => abortedAt.has(tag), 2000, 'handler signal after timeout');
      client.disconnect();
    }
  });

  it('carries bytes both ways: raw over the WebSocket, base64 over SSE, Uint8Array for the app', async () => {
    const payload = Uint8Array.from({ length: 100_000 }, (_, i) => i % 251);
    for (const kind of TRANSPORTS) {
      const client = await connected(kind, `bytes-${kind}`);
      const res = await client.rpc<Uint8Array>('reverse', payload.subarray(0, 30_000));
      expect(res.data).toBeInstanceOf(Uint8Array);
      expect(Array.from(res.data)).toEqual(Array.from(payload.subarray(0, 30_000)).reverse());
      const chunks: Uint8Array[] = [];
      await client.rpc('bytes', 3, { onChunk: (c) => void chunks.push(c as Uint8Array) });
      expect(chunks.map((c) => Array.from(c))).toEqual([[0, 1, 2], [1, 2, 3], [2, 3, 4]]);
      client.disconnect();
    }
  });

  it('sends bytes over the WebSocket as binary frames, without base64', async () => {
    const ws = new WebSocket(t.wsUrl);
    const frames: Array<{ binary: boolean; data: Buffer }> = [];
    ws.on('message', (data: Buffer, binary) => void frames.push({ binary, data }));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ id: 1, method: 'connect', params: { token: await t.token('raw-bytes') } }));
    await until(() => frames.length === 1);
    const payload = new Uint8Array(40_000).fill(7);
    ws.send(encodeBinaryFrame(JSON.stringify({ id: 2, method: 'rpc', params: { method: 'reverse', data: null, binary: true } }), payload));
    await until(() => frames.length === 2);
    const reply = frames[1]!;
    expect(reply.binary).toBe(true);
    const { header, payload: back } = splitBinaryFrame(new Uint8Array(reply.data));
    expect(header).toEqual({ id: 2, result: { data: null, binary: true } });
    expect(back.length).toBe(40_000);
    expect(reply.data.length).toBeLessThan(40_000 + 100); // no base64 inflation
    ws.close();
  });
});
