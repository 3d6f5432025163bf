/**
 * Delivery you can trust, end to end with the client SDK over real sockets:
 * every publication once and in order, across server-side and client-side
 * drops, and a plain `recovered: false` when the gap is beyond history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Publication, createClient } from '@tidings/client';
import { type TestGateway, startProxy, startTestGateway, until } from './helpers.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ namespaces: { '': {}, short: { history: { size: 10, ttl: 60 } } } });
});
afterAll(() => t.close());

function clientFor(user: string, url = t.wsUrl) {
  return createClient({ url, getToken: () => t.token(user), minReconnectDelay: 50, maxReconnectDelay: 300 });
}

function collector(channel: string, client: ReturnType<typeof clientFor>) {
  const got: Publication<{ i: number }>[] = [];
  const subscribed: Array<{ recovered: boolean; wasRecovering: boolean }> = [];
  const sub = client.subscribe<{ i: number }>(channel, {
    onPublication: (p) => void got.push(p),
    onSubscribed: (ctx) => void subscribed.push({ recovered: ctx.recovered, wasRecovering: ctx.wasRecovering }),
  });
  return { got, subscribed, sub };
}

function expectExactlyOnceInOrder(got: Publication<{ i: number }>[], n: number) {
  expect(got.map((p) => p.data.i)).toEqual(Array.from({ length: n }, (_, i) => i));
  const offsets = got.map((p) => p.offset);
  for (let i = 1; i < offsets.length; i++) expect(offsets[i]).toBe(offsets[0]! + i);
}

describe('delivery', () => {
  it('three clients each receive 1,000 API publications once, in order, with contiguous offsets', async () => {
    const clients = ['a', 'b', 'c'].map((u) => clientFor(u));
    const cols = clients.map((c) => collector('news:big', c));
    for (const c of clients) c.connect();
    await Promise.all(clients.map((c) => c.ready()));
    await until(() => cols.every((c) => c.sub.state === 'subscribed'), 5000, 'subscribed');
    for (let i = 0; i < 1000; i++) await t.publish('news:big', { i });
    await until(() => cols.every((c) => c.got.length >= 1000), 20_000, '1000 each');
    await new Promise((r) => setTimeout(r, 100));
    for (const c of cols) expectExactlyOnceInOrder(c.got, 1000);
    for (const c of clients) c.disconnect();
  });

  it('recovers 50 publications missed while the server cut the connection, exactly once', async () => {
    const client = clientFor('srvcut');
    const col = collector('news:cut', client);
    client.connect();
    await until(() => col.sub.state === 'subscribed', 5000, 'subscribed');
    for (let i = 0; i < 5; i++) await t.publish('news:cut', { i });
    await until(() => col.got.length === 5);
    for (const s of t.gw.sessions()) if (s.user === 'srvcut') s.transport.abort();
    for (let i = 5; i < 55; i++) await t.publish('news:cut', { i });
    await until(() => col.got.length >= 55, 10_000, 'recovered 50');
    await new Promise((r) => setTimeout(r, 100));
    expectExactlyOnceInOrder(col.got, 55);
    expect(col.subscribed.at(-1)).toEqual({ recovered: true, wasRecovering: true });
    client.disconnect();
  });

  it('recovers 50 publications missed during a client-side network drop, exactly once', async () => {
    const proxy = await startProxy(t.port);
    const client = clientFor('netdrop', proxy.wsUrl);
    const col = collector('news:drop', client);
    client.connect();
    await until(() => col.sub.state === 'subscribed', 5000, 'subscribed');
    await t.publish('news:drop', { i: 0 });
    await until(() => col.got.length === 1);
    proxy.block();
    proxy.drop();
    await until(() => client.state !== 'connected', 5000, 'client noticed the drop');
    for (let i = 1; i < 51; i++) await t.publish('news:drop', { i });
    proxy.unblock();
    await until(() => col.got.length >= 51, 10_000, 'recovered 50');
    await new Promise((r) => setTimeout(r, 100));
    expectExactlyOnceInOrder(col.got, 51);
    expect(col.subscribed.at(-1)).toEqual({ recovered: true, wasRecovering: true });
    client.disconnect();
    await proxy.close();
  });

  it('says recovered: false when the gap is beyond history, then continues live', async () => {
    const proxy = await startProxy(t.port);
    const client = clientFor('toolong', proxy.wsUrl);
    const col = collector('short:x', client);
    client.connect();
    await until(() => col.sub.state === 'subscribed', 5000, 'subscribed');
    await t.publish('short:x', { i: 0 });
    await until(() => col.got.length === 1);
    proxy.block();
    proxy.drop();
    await until(() => client.state !== 'connected', 5000, 'client noticed the drop');
    for (let i = 1; i <= 30; i++) await t.publish('short:x', { i });
    proxy.unblock();
    await until(() => col.subscribed.length === 2, 10_000, 'resubscribed');
    expect(col.subscribed[1]).toEqual({ recovered: false, wasRecovering: true });
    expect(col.got).toHaveLength(1); // nothing partial
    await t.publish('short:x', { i: 31 });
    await until(() => col.got.length === 2);
    expect(col.got[1]!.data.i).toBe(31);
    client.disconnect();
    await proxy.close();
  });

  it('recovers publications to the personal channel across a drop', async () => {
    const client = clientFor('me');
    const got: number[] = [];
    client.on('publication', (p) => void got.push((p as Publication<{ i: number }>).data.i));
    client.connect();
    await client.ready();
    await t.api('/api/user/publish', { user: 'me', data: { i: 0 } });
    await until(() => got.length === 1);
    for (const s of t.gw.sessions()) if (s.user === 'me') s.transport.abort();
    for (let i = 1; i <= 10; i++) await t.api('/api/user/publish', { user: 'me', data: { i } });
    await until(() => got.length >= 11, 10_000, 'personal recovered');
    expect(got).toEqual(Array.from({ length: 11 }, (_, i) => i));
    client.disconnect();
  });

  it('does not retry after a bad token, and fails plainly', async () => {
    const before = t.gw.stats().handshakes;
    const client = createClient({ url: t.wsUrl, getToken: () => 'bad.token.here', minReconnectDelay: 20, maxReconnectDelay: 50 });
    const failed = new Promise<{ code: number }>((r) => client.on('failed', (e: { code: number }) => r(e)));
    client.connect();
    expect((await failed).code).toBe(3500);
    await new Promise((r) => setTimeout(r, 500));
    expect(client.state).toBe('failed');
    expect(t.gw.stats().handshakes - before).toBe(1);
    await expect(client.ready()).rejects.toThrow();
  });

  it('queues publishes while offline and sends them after connecting', async () => {
    const t2 = await startTestGateway({ namespaces: { '': { publish: 'authenticated' } } });
    const client = createClient({ url: t2.wsUrl, getToken: () => t2.token('q'), offlineQueueSize: 3 });
    const results = [client.publish('room', { n: 1 }), client.publish('room', { n: 2 }), client.publish('room', { n: 3 })];
    await expect(client.publish('room', { n: 4 })).rejects.toMatchObject({ code: 106 });
    client.connect();
    expect((await Promise.all(results)).map((r) => r.offset)).toEqual([1, 2, 3]);
    const h = await t2.api('/api/history', { channel: 'room' });
    expect(h.body.publications.map((p: any) => p.data.n)).toEqual([1, 2, 3]);
    client.disconnect();
    await t2.close();
  });
});
