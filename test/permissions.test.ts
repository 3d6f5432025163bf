/** Channel rules: who may subscribe and publish, by namespace, token claims and user-limited channels. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawPeer, type TestGateway, startTestGateway } from './helpers.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({
    namespaces: {
      '': {},
      secret: { subscribe: 'claims' },
      chat: { publish: 'subscribers', presence: true, joinLeave: true },
      off: { history: false },
    },
    strictNamespaces: true,
  });
});
afterAll(() => t.close());

async function as(user: string, channels?: string[]) {
  const peer = await new RawPeer(t.wsUrl).open();
  const reply = await peer.call('connect', { token: await t.token(user, channels ? { channels } : {}) });
  expect(reply.result.user).toBe(user);
  return peer;
}

describe('channel permissions', () => {
  it('keeps personal channels to their user', async () => {
    const alice = await as('alice');
    expect((await alice.call('subscribe', { channel: '#bob' })).error.code).toBe(103);
    expect((await alice.call('subscribe', { channel: 'chat:#bob,carol' })).error.code).toBe(103);
    expect((await alice.call('subscribe', { channel: 'chat:#alice,bob' })).result.channel).toBe('chat:#alice,bob');
    // Her own personal channel is already a server-side subscription.
    expect((await alice.call('subscribe', { channel: '#alice' })).error.code).toBe(105);
    alice.close();
  });

  it('grants claims-only namespaces through the token', async () => {
    const plain = await as('u1');
    expect((await plain.call('subscribe', { channel: 'secret:plans' })).error.code).toBe(103);
    const granted = await as('u2', ['secret:plans', 'secret:team-*']);
    expect((await granted.call('subscribe', { channel: 'secret:plans' })).result.recoverable).toBe(true);
    expect((await granted.call('subscribe', { channel: 'secret:team-red' })).result.channel).toBe('secret:team-red');
    expect((await granted.call('subscribe', { channel: 'secret:other' })).error.code).toBe(103);
    plain.close();
    granted.close();
  });

  it('refuses unknown namespaces in strict mode', async () => {
    const p = await as('u3');
    expect((await p.call('subscribe', { channel: 'nowhere:x' })).error.code).toBe(102);
    p.close();
  });

  it('lets clients publish only where the namespace allows', async () => {
    const p = await as('u4');
    expect((await p.call('publish', { channel: 'news', data: 1 })).error.code).toBe(103);
    expect((await p.call('publish', { channel: 'chat:room', data: 1 })).error.code).toBe(103);
    await p.call('subscribe', { channel: 'chat:room' });
    const ok = await p.call('publish', { channel: 'chat:room', data: { text: 'hi' } });
    expect(ok.result.offset).toBe(1);
    const pub = await p.waitFor((f) => f.type === 'pub' && f.channel === 'chat:room');
    expect(pub.info.user).toBe('u4');
    p.close();
  });

  it('keeps presence and pushes join/leave where enabled', async () => {
    const a = await as('pa');
    const b = await as('pb');
    await a.call('subscribe', { channel: 'chat:lobby' });
    await b.call('subscribe', { channel: 'chat:lobby' });
    const join = await a.waitFor((f) => f.type === 'join');
    expect(join.info.user).toBe('pb');
    const pres = await a.call('presence', { channel: 'chat:lobby' });
    expect(pres.result.clients.map((c: any) => c.user).sort()).toEqual(['pa', 'pb']);
    const viaApi = await t.api('/api/presence', { channel: 'chat:lobby' });
    expect(viaApi.body.clients).toHaveLength(2);
    b.close();
    const leave = await a.waitFor((f) => f.type === 'leave');
    expect(leave.info.user).toBe('pb');
    expect((await a.call('presence', { channel: 'news' })).error.code).toBe(108);
    a.close();
  });

  it('publishes unpositioned where history is off, and says recovery is impossible', async () => {
    const p = await as('u5');
    const sub = await p.call('subscribe', { channel: 'off:x' });
    expect(sub.result.recoverable).toBe(false);
    await t.publish('off:x', 'hello');
    const pub = await p.waitFor((f) => f.type === 'pub');
    expect(pub).toMatchObject({ offset: 0, epoch: '', data: 'hello' });
    expect((await p.call('history', { channel: 'off:x' })).error.code).toBe(108);
    p.close();
  });
});
