/**
 * Ephemeral signals (docs/protocol.md, "Signals"): delivered at once to the
 * other subscribers, never stored nor recovered, rate-limited on their own,
 * and keyed signals cleared by the server when their ttl passes or their
 * sender leaves. Real gateways on 127.0.0.1; the Redis case on a real
 * redis-server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Signal, createClient } from '@tidings/client';
import { Gateway, RedisEngine, makeConfig } from '@tidings/server';
import { API_KEY, SECRET, type TestGateway, connectedPeer, startTestGateway, until } from './helpers.js';
import { type TestRedis, skipWithoutRedis, startRedis } from './redis-server.js';

const NAMESPACES = { chat: { signals: true, presence: true }, quiet: {} };

describe('signals on one node', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ namespaces: NAMESPACES, signals: { rate: 0.1, burst: 5, maxKeys: 2, defaultTtl: 300, maxTtl: 1000 } });
  });
  afterAll(() => t?.close());

  it('reach the other subscribers with the sender, not the sender itself, and are never stored', async () => {
    const alice = await connectedPeer(t, 'alice');
    const bob = await connectedPeer(t, 'bob');
    for (const p of [alice, bob]) expect((await p.call('subscribe', { channel: 'chat:1' })).result).toBeDefined();
    await t.publish('chat:1', { text: 'hello' });
    const reply = await alice.call('signal', { channel: 'chat:1', data: { looking: 'msg-7' } });
    expect(reply).toEqual({ id: reply.id, result: {} });
    const sig = await bob.waitFor((f) => f.type === 'signal');
    expect(sig).toMatchObject({ channel: 'chat:1', data: { looking: 'msg-7' }, info: { user: 'alice' } });
    expect(sig.key).toBeUndefined();
    expect(alice.frames.some((f) => f.type === 'signal')).toBe(false);
    const h = await t.api('/api/history', { channel: 'chat:1' });
    expect(h.body.offset).toBe(1);
    expect(h.body.publications.map((p: any) => p.data)).toEqual([{ text: 'hello' }]);
    alice.close();
    bob.close();
  });

  it('clears a keyed signal when its ttl passes, when the sender sends null, and when it leaves', async () => {
    const alice = await connectedPeer(t, 'alice');
    const bob = await connectedPeer(t, 'bob');
    for (const p of [alice, bob]) await p.call('subscribe', { channel: 'chat:2' });
    const cleared = (n: number) => bob.frames.filter((f) => f.type === 'signal' && f.cleared).length >= n;

    await alice.call('signal', { channel: 'chat:2', data: { typing: true }, key: 'typing', ttl: 200 });
    const on = await bob.waitFor((f) => f.type === 'signal' && f.key === 'typing' && !f.cleared);
    expect(on).toMatchObject({ data: { typing: true }, ttl: 200, info: { user: 'alice' } });
    await until(() => cleared(1), 5000, 'the ttl clear');
    expect(bob.frames.find((f) => f.cleared)).toMatchObject({ channel: 'chat:2', key: 'typing', data: null, info: { user: 'alice' } });

    await alice.call('signal', { channel: 'chat:2', data: { typing: true }, key: 'typing' });
    await alice.call('signal', { channel: 'chat:2', data: null, key: 'typing' });
    await until(() => cleared(2), 5000, 'the explicit clear');

    await alice.call('signal', { channel: 'chat:2', data: { typing: true }, key: 'typing', ttl: 1000 });
    await alice.call('unsubscribe', { channel: 'chat:2' });
    await until(() => cleared(3), 5000, 'the clear on leaving');
    alice.close();
    bob.close();
  });

  it('asks for a subscription and a namespace that allows them, and limits rate and keys', async () => {
    const carol = await connectedPeer(t, 'carol');
    expect((await carol.call('signal', { channel: 'chat:3', data: 1 })).error.code).toBe(103);
    await carol.call('subscribe', { channel: 'quiet:1' });
    expect((await carol.call('signal', { channel: 'quiet:1', data: 1 })).error.code).toBe(108);
    expect((await carol.call('signal', { channel: 'chat:3', data: null })).error.code).toBe(107);
    expect((await carol.call('signal', { channel: 'chat:3', data: 1, key: 'no "quotes"' })).error.code).toBe(107);
    await carol.call('subscribe', { channel: 'chat:3' });
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await carol.call('signal', { channel: 'chat:3', data: i, key: `k${i}` });
      codes.push(r.error?.code ?? 0);
    }
    expect(codes).toEqual([0, 0, 106]);
    for (let i = 0; i < 4; i++) codes.push((await carol.call('signal', { channel: 'chat:3', data: i })).error?.code ?? 0);
    expect(codes.slice(3)).toEqual([0, 0, 111, 111]);
    carol.close();
  });

  it('come from the HTTP API too, without a sender', async () => {
    const bob = await connectedPeer(t, 'bob');
    await bob.call('subscribe', { channel: 'chat:4' });
    expect((await t.api('/api/signal', { channel: 'chat:4', data: { deploy: 'started' } })).status).toBe(200);
    const sig = await bob.waitFor((f) => f.type === 'signal');
    expect(sig).toEqual({ type: 'signal', channel: 'chat:4', data: { deploy: 'started' } });
    expect((await t.api('/api/signal', { channel: 'chat:4' })).status).toBe(400);
    expect((await t.api('/api/history', { channel: 'chat:4' })).body.offset).toBe(0);
    bob.close();
  });

  it('reach the SDK through onSignal and sub.signal, between publications that still arrive in order', async () => {
    const opts = (user: string) => ({ url: t.wsUrl, getToken: () => t.token(user), minReconnectDelay: 20, maxReconnectDelay: 50 });
    const a = createClient(opts('alice'));
    const b = createClient(opts('bob'));
    const signals: Signal[] = [];
    const pubs: unknown[] = [];
    const subA = a.subscribe('chat:5');
    b.subscribe('chat:5', { onSignal: (s) => signals.push(s), onPublication: (p) => pubs.push(p.data) });
    a.connect();
    b.connect();
    await Promise.all([subA.ready(5000), b.getSubscription('chat:5')!.ready(5000)]);
    await subA.signal({ typing: true }, { key: 'typing', ttl: 500 });
    await until(() => signals.length === 1, 5000, 'the signal');
    expect(signals[0]).toMatchObject({ channel: 'chat:5', data: { typing: true }, key: 'typing', ttl: 500, info: { user: 'alice' } });
    await t.publish('chat:5', 1);
    await a.signal('chat:5', { typing: true }, { key: 'typing' });
    await t.publish('chat:5', 2);
    await until(() => pubs.length === 2, 5000, 'both publications');
    a.disconnect();
    await until(() => signals.some((s) => s.cleared), 5000, 'the clear when alice leaves');
    expect(pubs).toEqual([1, 2]);
    b.disconnect();
  });
});

describe.skipIf(skipWithoutRedis)('signals across nodes on Redis', () => {
  let redis: TestRedis;
  const nodes: Gateway[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    const prefix = `sig${Math.random().toString(36).slice(2, 8)}:`;
    for (let i = 0; i < 2; i++) {
      const config = makeConfig({ host: '127.0.0.1', port: 0, apiKey: API_KEY, token: { hmacSecret: SECRET }, log: { level: 'silent' }, namespaces: NAMESPACES });
      const gw = new Gateway({ config, engine: new RedisEngine({ url: redis.url, prefix }) });
      await gw.listen();
      nodes.push(gw);
    }
  });
  afterAll(async () => {
    for (const gw of nodes) await gw.close(1000);
    await redis?.destroy();
  });

  it('a signal and its server-side clear reach a subscriber on the other node', async () => {
    const on = (gw: Gateway) => ({ wsUrl: `ws://127.0.0.1:${gw.port}/ws`, token: async (sub: string) => (await import('@tidings/server')).signToken(SECRET, { sub, ttlSeconds: 600 }) });
    const alice = await connectedPeer(on(nodes[0]!) as unknown as TestGateway, 'alice');
    const bob = await connectedPeer(on(nodes[1]!) as unknown as TestGateway, 'bob');
    for (const p of [alice, bob]) await p.call('subscribe', { channel: 'chat:x' });
    await alice.call('signal', { channel: 'chat:x', data: { typing: true }, key: 'typing', ttl: 200 });
    expect(await bob.waitFor((f) => f.type === 'signal' && !f.cleared)).toMatchObject({ info: { user: 'alice' }, key: 'typing' });
    expect(await bob.waitFor((f) => f.type === 'signal' && f.cleared, 5000)).toMatchObject({ key: 'typing', data: null });
    alice.close();
    bob.close();
  });
});
