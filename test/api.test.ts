/** The server HTTP API: publish, broadcast, users, history, presence, info, idempotency. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestGateway, connectedPeer, startTestGateway } from './helpers.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t.close());

describe('HTTP API', () => {
  it('publishes with offsets and honours idempotency keys', async () => {
    const a = await t.api('/api/publish', { channel: 'jobs:1', data: { p: 1 }, idempotencyKey: 'k-1' });
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ offset: 1, epoch: expect.any(String) });
    const again = await t.api('/api/publish', { channel: 'jobs:1', data: { p: 1 }, idempotencyKey: 'k-1' });
    expect(again.body).toEqual(a.body);
    const next = await t.api('/api/publish', { channel: 'jobs:1', data: { p: 2 } });
    expect(next.body.offset).toBe(2);
    const h = await t.api('/api/history', { channel: 'jobs:1' });
    expect(h.body.publications.map((p: any) => p.data)).toEqual([{ p: 1 }, { p: 2 }]);
    const since = await t.api('/api/history', { channel: 'jobs:1', since: { offset: 1, epoch: a.body.epoch } });
    expect(since.body.publications.map((p: any) => p.offset)).toEqual([2]);
  });

  it('broadcasts to many channels', async () => {
    const r = await t.api('/api/broadcast', { channels: ['b1', 'b2', 'bad name'], data: 'x' });
    expect(r.status).toBe(400);
    const ok = await t.api('/api/broadcast', { channels: ['b1', 'b2'], data: 'x' });
    expect(ok.body.results.map((x: any) => [x.channel, x.offset])).toEqual([['b1', 1], ['b2', 1]]);
  });

  it('publishes to a user: every connection of that user receives it', async () => {
    const tab1 = await connectedPeer(t, 'zoe');
    const tab2 = await connectedPeer(t, 'zoe');
    const other = await connectedPeer(t, 'yan');
    const r = await t.api('/api/user/publish', { user: 'zoe', data: { note: 'hi' } });
    expect(r.status).toBe(200);
    for (const tab of [tab1, tab2]) {
      const pub = await tab.waitFor((f) => f.type === 'pub');
      expect(pub).toMatchObject({ channel: '#zoe', data: { note: 'hi' }, offset: r.body.offset });
    }
    await new Promise((res) => setTimeout(res, 100));
    expect(other.frames.filter((f) => f.type === 'pub')).toHaveLength(0);
    for (const p of [tab1, tab2, other]) p.close();
  });

  it('disconnects a user everywhere, with or without reconnect advice', async () => {
    const a = await connectedPeer(t, 'kick');
    const b = await connectedPeer(t, 'kick');
    expect((await t.api('/api/user/disconnect', { user: 'kick' })).status).toBe(200);
    expect((await a.closed).code).toBe(3503);
    expect((await b.closed).code).toBe(3503);
    const c = await connectedPeer(t, 'kick');
    await t.api('/api/user/disconnect', { user: 'kick', reconnect: true });
    expect((await c.closed).code).toBe(3011);
  });

  it('ends a user\'s subscription on every connection, without resubscribe', async () => {
    const a = await connectedPeer(t, 'revoked');
    const b = await connectedPeer(t, 'revoked');
    for (const p of [a, b]) await p.call('subscribe', { channel: 'team:red' });
    expect((await t.api('/api/user/unsubscribe', { user: 'revoked', channel: 'team:red' })).status).toBe(200);
    for (const p of [a, b]) {
      const push = await p.waitFor((f) => f.type === 'unsub');
      expect(push).toMatchObject({ channel: 'team:red', code: 2000, resubscribe: false });
    }
    await t.publish('team:red', 'after');
    await new Promise((r) => setTimeout(r, 100));
    for (const p of [a, b]) expect(p.frames.filter((f) => f.type === 'pub' && f.channel === 'team:red')).toHaveLength(0);
    for (const p of [a, b]) p.close();
  });

  it('lists channels and node info, and serves health, readiness and metrics', async () => {
    const p = await connectedPeer(t, 'info');
    await p.call('subscribe', { channel: 'listed' });
    const ch = await t.api('/api/channels');
    expect(ch.body.channels).toContainEqual({ channel: 'listed', subscribers: 1 });
    const info = await t.api('/api/info');
    expect(info.body.nodes[0].connections).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${t.httpUrl}/health`)).status).toBe(200);
    expect((await fetch(`${t.httpUrl}/ready`)).status).toBe(200);
    const metrics = await (await fetch(`${t.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/tidings_connections\{transport="websocket"\} \d+/);
    p.close();
  });
});
