/**
 * The Pusher protocol against the real pusher-js (Node build) and the real
 * `pusher` server SDK, on one gateway: channels of every kind, presence,
 * client events, the HTTP API and its signatures, close codes, reconnect
 * after a restart, a native Tidings client on the same channel, and the
 * missed-event extension.
 */
import { createHash, createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { RawPeer, type TestGateway, connectedPeer, freePort, startTestGateway, until } from './helpers.js';
import { APP, collect, connected, pusherClient, pusherConfig, serverSdk, startPusherGateway, subscribed } from './pusher-helpers.js';
import type { PusherClient } from './pusher-helpers.js';

const open: Array<{ disconnect(): void }> = [];
let gateway: TestGateway | undefined;

afterEach(async () => {
  for (const c of open.splice(0)) c.disconnect();
  await gateway?.close();
  gateway = undefined;
});

async function start(extra: Record<string, unknown> = {}, config: Record<string, unknown> = {}): Promise<TestGateway> {
  gateway = await startPusherGateway(extra, config);
  return gateway;
}

async function client(t: TestGateway, opts: Parameters<typeof pusherClient>[1] = {}): Promise<PusherClient> {
  const p = pusherClient(t.port, opts);
  open.push(p);
  return connected(p);
}

/** A Pusher socket spoken by hand, for what pusher-js cannot send. */
async function rawPusher(t: TestGateway, query = '?protocol=7'): Promise<RawPeer> {
  const peer = await new RawPeer(`ws://127.0.0.1:${t.port}/app/${APP.key}${query}`).open();
  open.push({ disconnect: () => peer.close() });
  return peer;
}

const dataOf = (f: any) => (typeof f.data === 'string' ? JSON.parse(f.data) : f.data);

describe('pusher-js on public and private channels', () => {
  it('receives events triggered by the server SDK, in order, as a native client on the same channel does', async () => {
    const t = await start();
    const p = await client(t);
    const { channel } = await subscribed(p, 'orders;eu');
    const got = collect(channel, 'order-placed');
    const native = await connectedPeer(t, 'native-user');
    open.push({ disconnect: () => native.close() });
    const sub = await native.call('subscribe', { channel: 'pusher.app1:orders/eu' });
    expect(sub.result).toMatchObject({ channel: 'pusher.app1:orders/eu' });
    const sdk = serverSdk(t.port);
    for (let i = 1; i <= 5; i++) expect((await sdk.trigger('orders;eu', 'order-placed', { n: i })).status).toBe(200);
    await until(() => got.length === 5 && native.frames.filter((f) => f.type === 'pub').length === 5);
    expect(got).toEqual([1, 2, 3, 4, 5].map((n) => ({ n })));
    const nativePubs = native.frames.filter((f) => f.type === 'pub').map((f) => f.data);
    expect(nativePubs).toEqual([1, 2, 3, 4, 5].map((n) => ({ event: 'order-placed', data: { n } })));
  });

  it('a native publication arrives as the event it names, or as `message`', async () => {
    const t = await start();
    const p = await client(t);
    const { channel } = await subscribed(p, 'feed');
    const named = collect(channel, 'tick');
    const plain = collect(channel, 'message');
    await t.publish('pusher.app1:feed', { event: 'tick', data: { at: 1 } });
    await t.publish('pusher.app1:feed', { hello: 'world' });
    await until(() => named.length === 1 && plain.length === 1);
    expect(named).toEqual([{ at: 1 }]);
    expect(plain).toEqual([{ hello: 'world' }]);
  });

  it('subscribes to a private channel with a valid signature and refuses a wrong one', async () => {
    const t = await start();
    const good = await client(t);
    const { channel } = await subscribed(good, 'private-inbox');
    const got = collect(channel, 'mail');
    const bad = await client(t, { secret: 'not-the-app-secret-at-all' });
    await expect(subscribed(bad, 'private-inbox')).rejects.toThrow(/invalid signature/);
    await serverSdk(t.port).trigger('private-inbox', 'mail', 'hi');
    await until(() => got.length === 1);
    expect(got).toEqual(['hi']);
  });

  it('refuses an unknown app key with 4001 and a missing protocol with 4008', async () => {
    const t = await start();
    const unknown = await new RawPeer(`ws://127.0.0.1:${t.port}/app/nope?protocol=7`).open();
    expect((await unknown.closed).code).toBe(4001);
    expect(unknown.frames[0]).toMatchObject({ event: 'pusher:error', data: { code: 4001 } });
    const noProtocol = await new RawPeer(`ws://127.0.0.1:${t.port}/app/${APP.key}`).open();
    expect((await noProtocol.closed).code).toBe(4008);
  });

  it('answers pusher:ping and keeps the socket open after a malformed frame', async () => {
    const t = await start();
    const peer = await rawPusher(t);
    await peer.waitFor((f) => f.event === 'pusher:connection_established');
    const established = dataOf(peer.frames[0]);
    expect(established.socket_id).toMatch(/^\d+\.\d+$/);
    expect(established.activity_timeout).toBeGreaterThan(0);
    peer.sendRaw('{not json');
    await peer.waitFor((f) => f.event === 'pusher:error' && /JSON/.test(f.data.message));
    peer.sendRaw(JSON.stringify({ event: 'pusher:ping', data: {} }));
    await peer.waitFor((f) => f.event === 'pusher:pong');
    expect(peer.ws.readyState).toBe(peer.ws.OPEN);
  });
});

describe('presence and client events', () => {
  it('lists members, announces arrivals and departures once per user, and never echoes a client event', async () => {
    const t = await start();
    const alice = await client(t, { user: { id: 'alice', info: { name: 'Alice' } } });
    const a = await subscribed(alice, 'presence-room');
    expect(a.data.count).toBe(1);
    expect(a.data.me).toMatchObject({ id: 'alice', info: { name: 'Alice' } });
    const added: any[] = [];
    const removed: any[] = [];
    a.channel.bind('pusher:member_added', (m: unknown) => added.push(m));
    a.channel.bind('pusher:member_removed', (m: unknown) => removed.push(m));
    const aliceTyping = collect(a.channel, 'client-typing');
    const aliceMeta: any[] = [];
    a.channel.bind('client-typing', (_d: unknown, meta: unknown) => aliceMeta.push(meta));

    const bob = await client(t, { user: { id: 'bob', info: { name: 'Bob' } } });
    const b = await subscribed(bob, 'presence-room');
    expect(b.data.count).toBe(2);
    expect(Object.keys(b.data.members).sort()).toEqual(['alice', 'bob']);
    await until(() => added.length === 1);
    expect(added[0]).toMatchObject({ id: 'bob', info: { name: 'Bob' } });

    // A second connection of bob's is not a new member.
    const bob2 = await client(t, { user: { id: 'bob', info: { name: 'Bob' } } });
    await subscribed(bob2, 'presence-room');

    const bobTyping = collect(b.channel, 'client-typing');
    expect(b.channel.trigger('client-typing', { typing: true })).toBe(true);
    await until(() => aliceTyping.length === 1);
    expect(aliceTyping).toEqual([{ typing: true }]);
    expect(aliceMeta[0]).toEqual({ user_id: 'bob' });
    // The sender's own connection never sees it; a ping round trip proves the frame had time to come.
    await until(() => bob.connection.state === 'connected');
    await serverSdk(t.port).trigger('presence-room', 'marker', {});
    const marker = collect(b.channel, 'marker');
    await serverSdk(t.port).trigger('presence-room', 'marker', {});
    await until(() => marker.length === 1);
    expect(bobTyping).toEqual([]);

    bob2.disconnect();
    bob.disconnect();
    await until(() => removed.length === 1);
    expect(removed[0]).toMatchObject({ id: 'bob' });
    expect(added.length).toBe(1);
  });

  it('refuses client events on public channels and when the app turns them off', async () => {
    const t = await start({ clientEvents: false });
    const peer = await rawPusher(t);
    await peer.waitFor((f) => f.event === 'pusher:connection_established');
    peer.sendRaw(JSON.stringify({ event: 'client-x', channel: 'private-a', data: {} }));
    await peer.waitFor((f) => f.event === 'pusher:error' && /not enabled/.test(f.data.message));
  });

  it('rate-limits client events with 4301', async () => {
    const t = await start({}, { signals: { rate: 1, burst: 1 } });
    const alice = await client(t, { user: { id: 'alice' } });
    const errors: any[] = [];
    alice.connection.bind('error', (e: any) => errors.push(e));
    const { channel } = await subscribed(alice, 'private-chat');
    for (let i = 0; i < 5; i++) channel.trigger('client-msg', { i });
    await until(() => errors.some((e) => e.data?.code === 4301));
  });

  it('signs in a user and delivers server-to-user events', async () => {
    const t = await start();
    const carol = await client(t, { user: { id: 'carol' } });
    const got: unknown[] = [];
    carol.user.bind('notice', (d: unknown) => got.push(d));
    carol.signin();
    await until(() => (carol.user as any).serverToUserChannel?.subscribed === true);
    expect((await serverSdk(t.port).sendToUser('carol', 'notice', { hello: 'carol' })).status).toBe(200);
    await until(() => got.length === 1);
    expect(got).toEqual([{ hello: 'carol' }]);
  });
});

describe('the HTTP API through the pusher SDK', () => {
  it('triggers on many channels, excludes the socket_id, and batch-triggers', async () => {
    const t = await start();
    const p1 = await client(t);
    const p2 = await client(t);
    const c1 = (await subscribed(p1, 'a')).channel;
    const c2 = (await subscribed(p2, 'a')).channel;
    const c2b = (await subscribed(p2, 'b')).channel;
    const got1 = collect(c1, 'e');
    const got2 = collect(c2, 'e');
    const got2b = collect(c2b, 'e');
    const sdk = serverSdk(t.port);
    await sdk.trigger(['a', 'b'], 'e', { first: true }, { socket_id: p1.connection.socket_id });
    await sdk.triggerBatch([
      { channel: 'a', name: 'e', data: { second: true } },
      { channel: 'b', name: 'e', data: { second: true } },
    ]);
    await until(() => got2.length === 2 && got2b.length === 2 && got1.length === 1);
    expect(got1).toEqual([{ second: true }]);
    expect(got2).toEqual([{ first: true }, { second: true }]);
  });

  it('answers channel queries: the list, one channel with counts, a presence channel\'s users', async () => {
    const t = await start();
    const alice = await client(t, { user: { id: 'alice' } });
    await subscribed(alice, 'presence-lobby');
    await subscribed(alice, 'news');
    const sdk = serverSdk(t.port);
    const list = await (await sdk.get({ path: '/channels' })).json();
    expect(Object.keys(list.channels).sort()).toEqual(['news', 'presence-lobby']);
    const presenceList = await (await sdk.get({ path: '/channels', params: { filter_by_prefix: 'presence-', info: 'user_count' } })).json();
    expect(presenceList.channels).toEqual({ 'presence-lobby': { user_count: 1 } });
    const one = await (await sdk.get({ path: '/channels/presence-lobby', params: { info: 'user_count,subscription_count' } })).json();
    expect(one).toEqual({ occupied: true, user_count: 1, subscription_count: 1 });
    const idle = await (await sdk.get({ path: '/channels/nobody-here' })).json();
    expect(idle).toEqual({ occupied: false });
    const users = await (await sdk.get({ path: '/channels/presence-lobby/users' })).json();
    expect(users).toEqual({ users: [{ id: 'alice' }] });
  });

  it('terminates a user\'s connections with 4009, and pusher-js does not reconnect', async () => {
    const t = await start();
    const dave = await client(t, { user: { id: 'dave' } });
    const closes: number[] = [];
    dave.connection.bind('error', (e: any) => e.data?.code && closes.push(e.data.code));
    await subscribed(dave, 'presence-x');
    expect((await serverSdk(t.port).terminateUserConnections('dave')).status).toBe(200);
    await until(() => closes.includes(4009) && ['disconnected', 'failed', 'unavailable'].includes(dave.connection.state));
    // The close reaches the server's side of the socket a moment after the client's.
    await until(() => t.gw.connections === 0, 10_000, 'the terminated socket closed on the server');
    expect(['disconnected', 'failed', 'unavailable']).toContain(dave.connection.state);
  });

  it('refuses a bad signature and a stale timestamp with 401', async () => {
    const t = await start();
    const wrong = serverSdk(t.port, { ...APP, secret: 'some-other-secret-value' });
    await expect(wrong.trigger('a', 'e', {})).rejects.toMatchObject({ status: 401 });
    // Read the clock for each request, and stay well clear of the 600 s edge: a slow CI machine
    // takes seconds between requests.
    const now = () => Math.floor(Date.now() / 1000);
    expect((await signedFetch(t, 'GET', '/channels', '', now())).status).toBe(200);
    const stale = await signedFetch(t, 'GET', '/channels', '', now() - 660);
    expect(stale.status).toBe(401);
    expect(await stale.text()).toContain('auth_timestamp');
    expect((await signedFetch(t, 'GET', '/channels', '', now() + 660)).status).toBe(401);
    const body = JSON.stringify({ name: 'e', channel: 'a', data: '{}' });
    expect((await signedFetch(t, 'POST', '/events', body, now(), { body_md5: 'f'.repeat(32) })).status).toBe(401);
    expect((await fetch(`${t.httpUrl}/apps/${APP.id}/channels`)).status).toBe(401);
  });

  it('refuses data over the app limit with 413 and a bad channel name with 400', async () => {
    const t = await start({ maxEventBytes: 100 });
    await expect(serverSdk(t.port).trigger('a', 'e', 'x'.repeat(200))).rejects.toMatchObject({ status: 413 });
    const body = JSON.stringify({ name: 'e', channel: 'bad channel!', data: '{}' });
    expect((await signedFetch(t, 'POST', '/events', body, Math.floor(Date.now() / 1000))).status).toBe(400);
  });
});

/** A request signed by hand (Pusher's rest-api authentication), for what the SDK will not send: stale times, bad names. */
function signedFetch(t: TestGateway, method: string, route: string, body: string, timestamp: number, extra: Record<string, string> = {}) {
  const path = `/apps/${APP.id}${route}`;
  const params: Record<string, string> = { auth_key: APP.key, auth_timestamp: String(timestamp), auth_version: '1.0' };
  if (body) params.body_md5 = createHash('md5').update(body).digest('hex');
  Object.assign(params, extra);
  const query = Object.keys(params)
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
  const signature = createHmac('sha256', APP.secret).update(`${method}\n${path}\n${query}`).digest('hex');
  return fetch(`${t.httpUrl}${path}?${query}&auth_signature=${signature}`, { method, ...(body ? { body, headers: { 'content-type': 'application/json' } } : {}) });
}

describe('reconnecting', () => {
  it('pusher-js reconnects after the gateway restarts, resubscribes, and gets events again', async () => {
    const port = await freePort();
    const config = { ...pusherConfig() };
    let t = await startTestGateway(config, port);
    const p = pusherClient(port);
    open.push(p);
    await connected(p);
    const { channel } = await subscribed(p, 'private-live');
    const got = collect(channel, 'e');
    const firstSocket = p.connection.socket_id;
    await t.close();
    await until(() => p.connection.state !== 'connected');
    t = await startTestGateway(config, port);
    gateway = t;
    // pusher-js's first retry meets the stopped node and falls into its own backoff: on a loaded machine that takes a while.
    await until(() => p.connection.state === 'connected' && p.connection.socket_id !== firstSocket, 45_000, 'reconnected');
    await until(() => t.gw.ctx.hub.subscriberCount('pusher.app1.private:private-live') === 1, 10_000, 'resubscribed');
    await serverSdk(port).trigger('private-live', 'e', { after: 'restart' });
    await until(() => got.length === 1);
    expect(got).toEqual([{ after: 'restart' }]);
  }, 60_000);

  it('gets the events it missed back with tidings_since (the opt-in extension)', async () => {
    const t = await start();
    const first = await rawPusher(t);
    await first.waitFor((f) => f.event === 'pusher:connection_established');
    first.sendRaw(JSON.stringify({ event: 'pusher:subscribe', data: { channel: 'scores', tidings_positions: true } }));
    await first.waitFor((f) => f.event === 'pusher_internal:subscription_succeeded');
    const sdk = serverSdk(t.port);
    await sdk.trigger('scores', 'goal', { n: 1 });
    const seen = await first.waitFor((f) => f.event === 'tidings:position' && dataOf(f).offset === 1);
    const since = dataOf(seen);
    first.close();
    await sdk.trigger('scores', 'goal', { n: 2 });
    await sdk.trigger('scores', 'goal', { n: 3 });

    const again = await rawPusher(t);
    await again.waitFor((f) => f.event === 'pusher:connection_established');
    again.sendRaw(JSON.stringify({ event: 'pusher:subscribe', data: { channel: 'scores', tidings_since: since } }));
    const done = await again.waitFor((f) => f.event === 'tidings:position' && dataOf(f).recovered !== undefined);
    expect(dataOf(done)).toMatchObject({ recovered: true, offset: 3 });
    const goals = again.frames.filter((f) => f.event === 'goal').map(dataOf);
    expect(goals).toEqual([{ n: 2 }, { n: 3 }]);
    const order = again.frames.map((f) => f.event);
    expect(order.indexOf('pusher_internal:subscription_succeeded')).toBeLessThan(order.indexOf('goal'));
  });

  it('pusher-js gets missed events back with the wrapper docs/pusher-compatibility.md shows', async () => {
    const t = await start();
    const pusher = await client(t);
    // As in the docs: remember each channel's position, and send it with the resubscribe.
    const positions: Record<string, { offset: number; epoch: string }> = {};
    const send = pusher.send_event.bind(pusher);
    pusher.send_event = (event: string, data: any, channel?: string) => {
      if (event === 'pusher:subscribe') {
        const since = positions[data.channel];
        data = since ? { ...data, tidings_since: since } : { ...data, tidings_positions: true };
      }
      return send(event, data, channel);
    };
    const scores = pusher.subscribe('scores');
    scores.bind('tidings:position', (p: { offset: number; epoch: string }) => (positions.scores = { offset: p.offset, epoch: p.epoch }));
    const goals = collect(scores, 'goal');
    const recovered: boolean[] = [];
    scores.bind('tidings:position', (p: { recovered?: boolean }) => p.recovered !== undefined && recovered.push(p.recovered));
    await until(() => positions.scores !== undefined);
    const sdk = serverSdk(t.port);
    await sdk.trigger('scores', 'goal', { n: 1 });
    await until(() => positions.scores?.offset === 1);
    pusher.disconnect();
    await until(() => pusher.connection.state === 'disconnected');
    await sdk.trigger('scores', 'goal', { n: 2 });
    await sdk.trigger('scores', 'goal', { n: 3 });
    pusher.connect();
    await until(() => goals.length === 3 && recovered.length === 1);
    expect(goals).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(recovered).toEqual([true]);
    expect(positions.scores?.offset).toBe(3);
  });

  it('a plain subscribe gets no extension frames', async () => {
    const t = await start();
    const peer = await rawPusher(t);
    peer.sendRaw(JSON.stringify({ event: 'pusher:subscribe', data: { channel: 'plain' } }));
    const ok = await peer.waitFor((f) => f.event === 'pusher_internal:subscription_succeeded');
    expect(dataOf(ok)).toEqual({});
    await serverSdk(t.port).trigger('plain', 'e', {});
    await peer.waitFor((f) => f.event === 'e');
    expect(peer.frames.some((f) => f.event.startsWith('tidings:'))).toBe(false);
  });
});

describe('app limits', () => {
  it('refuses a new user on a full presence channel before they join, and lets another connection of a member in', async () => {
    const t = await start({ maxPresenceMembers: 1 });
    const alice = await client(t, { user: { id: 'alice' } });
    const a = await subscribed(alice, 'presence-small');
    const added: unknown[] = [];
    a.channel.bind('pusher:member_added', (m: unknown) => added.push(m));
    const bob = await client(t, { user: { id: 'bob' } });
    await expect(subscribed(bob, 'presence-small')).rejects.toThrow(/full/);
    const alice2 = await client(t, { user: { id: 'alice' } });
    expect((await subscribed(alice2, 'presence-small')).data.count).toBe(1);
    expect(added).toEqual([]);
  });

  it('closes sockets over the app connection quota with 4004', async () => {
    const t = await start({ maxConnections: 1 });
    await client(t);
    const second = await new RawPeer(`ws://127.0.0.1:${t.port}/app/${APP.key}?protocol=7`).open();
    expect((await second.closed).code).toBe(4004);
  });

  it('refuses an origin the app does not allow with 4009', async () => {
    const t = await start({ allowedOrigins: ['https://app.example'] });
    const { default: WebSocket } = await import('ws');
    const refused = new WebSocket(`ws://127.0.0.1:${t.port}/app/${APP.key}?protocol=7`, { origin: 'https://evil.example' });
    const code = await new Promise<number>((r) => refused.on('close', (c) => r(c)));
    expect(code).toBe(4009);
    const allowed = new WebSocket(`ws://127.0.0.1:${t.port}/app/${APP.key}?protocol=7`, { origin: 'https://app.example' });
    const first = await new Promise<string>((r) => allowed.once('message', (d) => r(d.toString())));
    expect(JSON.parse(first).event).toBe('pusher:connection_established');
    allowed.close();
  });
});

describe('encrypted channels', () => {
  it('relays end-to-end encrypted events that pusher-js decrypts with the shared secret', async () => {
    const t = await start();
    const { default: Pusher } = await import('pusher');
    // The backend holds the master key; its authorization hands pusher-js the channel's shared secret.
    const signer = new Pusher({ appId: APP.id, key: APP.key, secret: APP.secret, host: '127.0.0.1', port: String(t.port), useTLS: false, encryptionMasterKeyBase64: Buffer.alloc(32, 7).toString('base64') });
    const p = await client(t, { signer });
    const { channel } = await subscribed(p, 'private-encrypted-vault');
    const got = collect(channel, 'secret');
    await signer.trigger('private-encrypted-vault', 'secret', { code: 42 });
    await until(() => got.length === 1);
    expect(got).toEqual([{ code: 42 }]);
    const stored = await t.api('/api/history', { channel: 'pusher.app1.private:private-encrypted-vault' });
    const text = JSON.stringify(stored.body);
    expect(text).toContain('ciphertext');
    expect(text).not.toMatch(/\\?"code\\?"/);
  });
});
