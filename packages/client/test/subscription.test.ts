/**
 * Delivery rules of a subscription, driven through a real Client over a
 * scripted fake socket: duplicates dropped, gaps never delivered but
 * recovered by resubscribing from the last position, recovered publications
 * delivered in order before anything live.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Client, type ClientOptions, type Publication, createClient } from '../src/index.js';
import { FakeSocket, pub, settle, sub, waitFor } from './fake-socket.js';

function makeClient(opts: Partial<ClientOptions> = {}): Client {
  return createClient({
    url: 'ws://test/ws',
    WebSocket: FakeSocket,
    getToken: () => 'tok',
    minReconnectDelay: 1,
    maxReconnectDelay: 2,
    ...opts,
  });
}

async function connected(opts: Partial<ClientOptions> = {}): Promise<{ client: Client; ws: FakeSocket }> {
  const client = makeClient(opts);
  client.connect();
  await waitFor(() => FakeSocket.instances.length === 1);
  const ws = FakeSocket.last();
  await ws.accept();
  expect(client.state).toBe('connected');
  return { client, ws };
}

/** Subscribe while connected and answer the subscribe at `offset`. */
function subscribed(client: Client, ws: FakeSocket, channel = 'news', offset = 0) {
  const got: Array<Publication<unknown>> = [];
  const events: unknown[] = [];
  const s = client.subscribe(channel, { onPublication: (p) => got.push(p), onSubscribed: (ctx) => events.push(ctx) });
  const cmd = ws.command('subscribe');
  expect(cmd.params).toEqual({ channel });
  ws.reply(cmd.id, sub(channel, { offset }));
  expect(s.state).toBe('subscribed');
  return { s, got, events, offsets: () => got.map((p) => p.offset) };
}

beforeEach(() => FakeSocket.reset());
let clients: Client[] = [];
afterEach(() => {
  for (const c of clients) c.disconnect();
  clients = [];
});

describe('connect handshake', () => {
  it('sends connect first with a fresh token, protocol 1 and no commands before the reply', async () => {
    let n = 0;
    const client = makeClient({ getToken: () => `tok${++n}`, name: 'test-app' });
    clients.push(client);
    const states: string[] = [];
    client.on('state', ({ state }) => states.push(state));
    client.connect();
    client.connect(); // idempotent
    await waitFor(() => FakeSocket.instances.length === 1);
    const ws = FakeSocket.last();
    ws.open();
    client.subscribe('news');
    const publish = client.publish('news', { a: 1 });
    expect(ws.sent.map((f) => f.method)).toEqual(['connect']);
    const connect = ws.command('connect');
    expect(connect.id).toBe(1);
    expect(connect.params).toMatchObject({ token: 'tok1', protocol: 1, name: 'test-app', subs: [] });
    const ready = client.ready();
    ws.reply(connect.id, { client: 'c1', user: 'u1', protocol: 1, ping: 25, pong: 10, subs: [], serverSubs: [] });
    await ready;
    expect(states).toEqual(['connecting', 'connected']);
    expect(client.session).toMatchObject({ client: 'c1', user: 'u1' });
    // The queued publish goes first, then the subscribe that waited for the connection.
    expect(ws.sent.slice(1).map((f) => f.method)).toEqual(['publish', 'subscribe']);
    ws.reply(ws.command('publish').id, { offset: 1, epoch: 'e1' });
    await expect(publish).resolves.toEqual({ offset: 1, epoch: 'e1' });
  });
});

describe('delivery rules', () => {
  it('delivers in order and drops duplicates', async () => {
    const { client, ws } = await connected();
    clients.push(client);
    const { s, events, offsets } = subscribed(client, ws, 'news', 0);
    expect(events).toEqual([
      { channel: 'news', recovered: false, wasRecovering: false, recoverable: true, epoch: 'e1', offset: 0 },
    ]);
    for (const o of [1, 2, 2, 1, 3]) ws.push(pub('news', o));
    expect(offsets()).toEqual([1, 2, 3]);
    expect(s.position).toEqual({ offset: 3, epoch: 'e1' });
  });

  it('never delivers across a gap: resubscribes from the last position and delivers the recovered publications in order first', async () => {
    const { client, ws } = await connected();
    clients.push(client);
    const { s, events, offsets } = subscribed(client, ws, 'news', 3);
    ws.push(pub('news', 4));
    const before = ws.sent.length;
    ws.push(pub('news', 6)); // 5 is missing
    expect(offsets()).toEqual([4]);
    expect(s.state).toBe('subscribing');
    const resent = ws.sent.slice(before);
    expect(resent.map((f) => f.method)).toEqual(['unsubscribe', 'subscribe']);
    expect(resent[1]!.params).toEqual({ channel: 'news', since: { offset: 4, epoch: 'e1' } });
    // Live publications of the old subscription arriving before the reply are not delivered.
    ws.push(pub('news', 7));
    expect(offsets()).toEqual([4]);
    ws.reply(resent[1]!.id, sub('news', {
      offset: 7, wasRecovering: true, recovered: true,
      publications: [pub('news', 5), pub('news', 6), pub('news', 7)],
    }));
    expect(s.state).toBe('subscribed');
    expect(events.at(-1)).toMatchObject({ recovered: true, wasRecovering: true, offset: 7 });
    expect(offsets()).toEqual([4, 5, 6, 7]);
    ws.push(pub('news', 7));
    ws.push(pub('news', 8));
    expect(offsets()).toEqual([4, 5, 6, 7, 8]);
  });

  it('recovered publications the app already has are not delivered twice', async () => {
    const { client, ws } = await connected();
    clients.push(client);
    const { offsets } = subscribed(client, ws, 'news', 0);
    ws.push(pub('news', 1));
    ws.push(pub('news', 2));
    ws.push(pub('news', 4));
    const resub = ws.command('subscribe');
    expect(resub.params.since).toEqual({ offset: 2, epoch: 'e1' });
    ws.reply(resub.id, sub('news', {
      offset: 4, wasRecovering: true, recovered: true,
      publications: [pub('news', 2), pub('news', 3), pub('news', 4)],
    }));
    expect(offsets()).toEqual([1, 2, 3, 4]);
  });

  it('an epoch change is a gap; recovered:false is reported plainly and the position jumps to the new stream', async () => {
    const { client, ws } = await connected();
    clients.push(client);
    const { s, events, offsets } = subscribed(client, ws, 'news', 2);
    ws.push(pub('news', 1, 'x', 'e2'));
    expect(offsets()).toEqual([]);
    const resub = ws.command('subscribe');
    expect(resub.params.since).toEqual({ offset: 2, epoch: 'e1' });
    ws.reply(resub.id, sub('news', { epoch: 'e2', offset: 1, wasRecovering: true, recovered: false }));
    expect(events.at(-1)).toMatchObject({ recovered: false, wasRecovering: true, epoch: 'e2', offset: 1 });
    expect(s.position).toEqual({ offset: 1, epoch: 'e2' });
    ws.push(pub('news', 2, 'y', 'e2'));
    expect(offsets()).toEqual([2]);
  });

  it('channels without history (offset 0) are delivered as they come', async () => {
    const { client, ws } = await connected();
    clients.push(client);
    const got: unknown[] = [];
    client.subscribe('chat', { onPublication: (p) => got.push(p.data) });
    ws.reply(ws.command('subscribe').id, sub('chat', { epoch: '', offset: 0, recoverable: false }));
    for (const d of ['a', 'b', 'c']) ws.push({ type: 'pub', channel: 'chat', offset: 0, epoch: '', data: d, time: 1 });
    expect(got).toEqual(['a', 'b', 'c']);
  });

  it('a throwing publication listener neither loses the next publication nor breaks the client', async () => {
    const { client, ws } = await connected();
    clients.push(client);
    const errors: Error[] = [];
    client.on('error', (e) => errors.push(e));
    const got: number[] = [];
    client.subscribe('news', {
      onPublication: (p) => {
        got.push(p.offset);
        if (p.offset === 1) throw new Error('app bug');
      },
    });
    ws.reply(ws.command('subscribe').id, sub('news'));
    ws.push(pub('news', 1));
    ws.push(pub('news', 2));
    expect(got).toEqual([1, 2]);
    expect(errors.map((e) => e.message)).toEqual(['app bug']);
  });

  it('an unsub push with resubscribe recovers from the last position; without it the subscription ends with its code', async () => {
    const { client, ws } = await connected();
    clients.push(client);
    const { s, offsets } = subscribed(client, ws, 'news', 5);
    ws.push({ type: 'unsub', channel: 'news', code: 3010, reason: 'insufficient state', resubscribe: true });
    expect(s.state).toBe('subscribing');
    const resub = ws.command('subscribe');
    expect(resub.params).toEqual({ channel: 'news', since: { offset: 5, epoch: 'e1' } });
    expect(ws.commands('unsubscribe')).toHaveLength(0);
    ws.reply(resub.id, sub('news', { offset: 6, wasRecovering: true, recovered: true, publications: [pub('news', 6)] }));
    expect(offsets()).toEqual([6]);
    const ended: unknown[] = [];
    s.on('unsubscribed', (ctx) => ended.push(ctx));
    ws.push({ type: 'unsub', channel: 'news', code: 3503, reason: 'kicked', resubscribe: false });
    expect(s.state).toBe('unsubscribed');
    expect(ended).toEqual([{ code: 3503, reason: 'kicked' }]);
  });
});

describe('reconnect and recovery', () => {
  it('after a drop, every subscription and server-side subscription recovers through the next connect', async () => {
    let tokens = 0;
    const { client, ws } = await connected({ getToken: () => `tok${++tokens}` });
    clients.push(client);
    const { s, offsets } = subscribed(client, ws, 'news', 0);
    ws.push(pub('news', 1));
    ws.push(pub('news', 2));
    const disconnected: unknown[] = [];
    client.on('disconnected', (ctx) => disconnected.push(ctx));

    ws.drop(3001, 'shutdown');
    expect(client.state).toBe('connecting');
    expect(s.state).toBe('subscribing');
    expect(disconnected).toEqual([{ code: 3001, reason: 'shutdown', reconnect: true }]);

    await waitFor(() => FakeSocket.instances.length === 2);
    const ws2 = FakeSocket.last();
    ws2.open();
    const connect = ws2.command('connect');
    expect(tokens).toBe(2);
    expect(connect.params.token).toBe('tok2');
    expect(connect.params.subs).toEqual([{ channel: 'news', since: { offset: 2, epoch: 'e1' } }]);
    ws2.reply(connect.id, {
      client: 'c2', user: 'u1', protocol: 1, ping: 25, pong: 10, serverSubs: [],
      subs: [sub('news', { offset: 4, wasRecovering: true, recovered: true, publications: [pub('news', 3), pub('news', 4)] })],
    });
    ws2.push(pub('news', 5));
    expect(s.state).toBe('subscribed');
    expect(offsets()).toEqual([1, 2, 3, 4, 5]);
    expect(ws2.commands('subscribe')).toHaveLength(0);
  });

  it('server-side subscriptions: publications on the client, positions sent back as serverSubs', async () => {
    const client = makeClient();
    clients.push(client);
    const got: number[] = [];
    const subscribedEvents: unknown[] = [];
    client.on('publication', (p) => got.push(p.offset));
    client.on('subscribed', (ctx) => subscribedEvents.push(ctx));
    client.connect();
    await waitFor(() => FakeSocket.instances.length === 1);
    const ws = FakeSocket.last();
    await ws.accept({ serverSubs: [sub('#u1', { offset: 2 })] });
    expect(subscribedEvents).toMatchObject([{ channel: '#u1', offset: 2 }]);
    ws.push(pub('#u1', 3));
    ws.push(pub('#u1', 3));
    expect(got).toEqual([3]);
    ws.drop(1006);
    await waitFor(() => FakeSocket.instances.length === 2);
    const ws2 = FakeSocket.last();
    const connect = await ws2.accept({
      serverSubs: [sub('#u1', { offset: 4, wasRecovering: true, recovered: true, publications: [pub('#u1', 4)] })],
    });
    expect(connect.params.serverSubs).toEqual({ '#u1': { offset: 3, epoch: 'e1' } });
    expect(got).toEqual([3, 4]);
  });

  it('disconnect() stops for good; connect() again resubscribes with recovery', async () => {
    const { client, ws } = await connected();
    clients.push(client);
    const { s } = subscribed(client, ws, 'news', 0);
    ws.push(pub('news', 1));
    const ready = client.ready(); // connected: resolves
    client.disconnect();
    await ready;
    expect(client.state).toBe('disconnected');
    expect(s.state).toBe('subscribing');
    await expect(client.ready()).rejects.toThrow(/disconnected/);
    await settle();
    expect(FakeSocket.instances).toHaveLength(1);
    client.connect();
    await waitFor(() => FakeSocket.instances.length === 2);
    const connect = await FakeSocket.last().accept({ subs: [sub('news', { offset: 1, wasRecovering: true, recovered: true })] });
    expect(connect.params.subs).toEqual([{ channel: 'news', since: { offset: 1, epoch: 'e1' } }]);
    expect(s.state).toBe('subscribed');
  });

  it('terminal close codes and token errors go to failed without retrying', async () => {
    const { client, ws } = await connected();
    clients.push(client);
    const failed: unknown[] = [];
    client.on('failed', (ctx) => failed.push(ctx));
    ws.push({ type: 'disconnect', code: 3500, reason: 'invalid token', reconnect: false });
    expect(client.state).toBe('failed');
    expect(failed).toEqual([{ code: 3500, reason: 'invalid token' }]);
    await settle();
    expect(FakeSocket.instances).toHaveLength(1);
    await expect(client.ready()).rejects.toMatchObject({ code: 3500 });

    const c2 = makeClient();
    clients.push(c2);
    c2.connect();
    await waitFor(() => FakeSocket.instances.length === 2);
    FakeSocket.last().drop(3502, 'token expired');
    expect(c2.state).toBe('failed');
  });

  it('getToken: UnauthorizedError fails, other errors are retried', async () => {
    const { UnauthorizedError } = await import('../src/index.js');
    let calls = 0;
    const c = makeClient({
      getToken: () => {
        calls++;
        if (calls === 1) throw new Error('auth server down');
        throw new UnauthorizedError('logged out');
      },
    });
    clients.push(c);
    c.on('error', () => {});
    const ready = c.ready.bind(c);
    c.connect();
    const p = ready();
    await expect(p).rejects.toMatchObject({ code: 3500 });
    expect(calls).toBe(2);
    expect(c.state).toBe('failed');
    expect(FakeSocket.instances).toHaveLength(0);
  });

  it('gives up after maxReconnectAttempts', async () => {
    const c = makeClient({ maxReconnectAttempts: 2 });
    clients.push(c);
    c.connect();
    for (let i = 1; i <= 3; i++) {
      await waitFor(() => FakeSocket.instances.length === i);
      FakeSocket.last().drop(1006);
    }
    expect(c.state).toBe('failed');
    await settle();
    expect(FakeSocket.instances).toHaveLength(3);
  });
});

describe('commands', () => {
  it('offline queue: bounded, sent in order after connect', async () => {
    const c = makeClient({ offlineQueueSize: 2 });
    clients.push(c);
    const p1 = c.publish('news', 1);
    const p2 = c.publish('news', 2);
    await expect(c.publish('news', 3)).rejects.toMatchObject({ name: 'TidingsError', code: 106 });
    c.connect();
    await waitFor(() => FakeSocket.instances.length === 1);
    const ws = FakeSocket.last();
    await ws.accept();
    const pubs = ws.commands('publish');
    expect(pubs.map((f) => f.params.data)).toEqual([1, 2]);
    ws.reply(pubs[1]!.id, { offset: 2, epoch: 'e' });
    ws.reply(pubs[0]!.id, { offset: 1, epoch: 'e' });
    await expect(p1).resolves.toEqual({ offset: 1, epoch: 'e' });
    await expect(p2).resolves.toEqual({ offset: 2, epoch: 'e' });
  });

  it('in-flight commands reject as temporary "connection lost"; presence/history/rpc reject at once when not connected', async () => {
    const { client, ws } = await connected();
    clients.push(client);
    const inflight = client.publish('news', 1);
    ws.drop(1006);
    await expect(inflight).rejects.toMatchObject({ temporary: true, message: 'connection lost' });
    await expect(client.presence('news')).rejects.toMatchObject({ code: 110 });
    await expect(client.history('news')).rejects.toMatchObject({ code: 110 });
    await expect(client.rpc('m', {})).rejects.toMatchObject({ code: 110 });
  });

  it('error replies reject with a TidingsError carrying code and temporary', async () => {
    const { client, ws } = await connected();
    clients.push(client);
    const p = client.presence('news');
    ws.replyError(ws.command('presence').id, { code: 108, message: 'presence is off' });
    await expect(p).rejects.toMatchObject({ name: 'TidingsError', code: 108, temporary: false, message: 'presence is off' });
  });

  it('answers ping with pong, and refreshes the token when asked', async () => {
    let n = 0;
    const { client, ws } = await connected({ getToken: () => `tok${++n}` });
    clients.push(client);
    ws.push({ type: 'ping' });
    expect(ws.sent.at(-1)).toEqual({ method: 'pong' });
    ws.push({ type: 'refresh', ttl: 30 });
    await waitFor(() => ws.commands('refresh').length === 1);
    expect(ws.command('refresh').params).toEqual({ token: 'tok2' });
  });
});

describe('subscription lifecycle', () => {
  it('one subscription per channel; unsubscribe then subscribe again recovers', async () => {
    const { client, ws } = await connected();
    clients.push(client);
    const { s, offsets } = subscribed(client, ws, 'news', 0);
    expect(() => client.subscribe('news')).toThrow(/already subscribed/);
    expect(client.getSubscription('news')).toBe(s);
    ws.push(pub('news', 1));
    s.unsubscribe();
    expect(ws.command('unsubscribe').params).toEqual({ channel: 'news' });
    ws.push(pub('news', 2)); // in flight before the server saw the unsubscribe
    s.subscribe();
    const again = ws.command('subscribe');
    expect(again.params).toEqual({ channel: 'news', since: { offset: 1, epoch: 'e1' } });
    ws.reply(again.id, sub('news', { offset: 2, wasRecovering: true, recovered: true, publications: [pub('news', 2)] }));
    expect(offsets()).toEqual([1, 2]);
  });

  it('unsubscribing while the subscribe is in flight undoes it when the reply comes', async () => {
    const { client, ws } = await connected();
    clients.push(client);
    const s = client.subscribe('news');
    const cmd = ws.command('subscribe');
    s.unsubscribe();
    expect(ws.commands('unsubscribe')).toHaveLength(0);
    ws.reply(cmd.id, sub('news'));
    expect(s.state).toBe('unsubscribed');
    expect(ws.commands('unsubscribe')).toHaveLength(1);
  });

  it('a permanent subscribe error ends the subscription with that code', async () => {
    const { client, ws } = await connected();
    clients.push(client);
    const errors: Error[] = [];
    const s = client.subscribe('secret', { onError: (e) => errors.push(e) });
    const ready = s.ready();
    ws.replyError(ws.command('subscribe').id, { code: 103, message: 'permission denied' });
    expect(s.state).toBe('unsubscribed');
    expect(errors).toHaveLength(1);
    await expect(ready).rejects.toMatchObject({ code: 103 });
  });
});

describe('re-entrant listeners', () => {
  it('disconnect() from a connected listener stops the rest of the connect processing', async () => {
    const c = makeClient();
    clients.push(c);
    const s = c.subscribe('news');
    const got: number[] = [];
    s.on('publication', (p) => got.push(p.offset));
    c.on('connected', () => c.disconnect());
    c.connect();
    await waitFor(() => FakeSocket.instances.length === 1);
    const ws = FakeSocket.last();
    await ws.accept({ subs: [sub('news', { offset: 1, wasRecovering: false, publications: [pub('news', 1)] })] });
    expect(c.state).toBe('disconnected');
    expect(s.state).toBe('subscribing');
    expect(got).toEqual([]);
    expect(ws.closedWith).toBeDefined();
  });

  it('unsubscribe() from a publication listener stops delivery of the recovered rest, which is recovered later', async () => {
    const { client, ws } = await connected();
    clients.push(client);
    const got: number[] = [];
    const s = client.subscribe('news', {
      since: { offset: 0, epoch: 'e1' },
      onPublication: (p) => {
        got.push(p.offset);
        if (p.offset === 1) s.unsubscribe();
      },
    });
    const cmd = ws.command('subscribe');
    expect(cmd.params.since).toEqual({ offset: 0, epoch: 'e1' });
    ws.reply(cmd.id, sub('news', { offset: 2, wasRecovering: true, recovered: true, publications: [pub('news', 1), pub('news', 2)] }));
    expect(got).toEqual([1]);
    expect(s.position).toEqual({ offset: 1, epoch: 'e1' });
    s.subscribe();
    expect(ws.command('subscribe').params.since).toEqual({ offset: 1, epoch: 'e1' });
  });
});
