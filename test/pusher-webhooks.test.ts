/**
 * A Pusher app's webhooks, end to end: real pusher-js clients drive the
 * gateway, a node:http receiver gets the webhooks, and the real `pusher`
 * server SDK checks their signatures as a Pusher backend would.
 */
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Pusher from 'pusher';
import { afterEach, describe, expect, it } from 'vitest';
import { type NodeProcess, killAllNodes, startNode } from './cluster-helpers.js';
import { type TestGateway, startTestGateway, until } from './helpers.js';
import { APP, type PusherClient, PusherJs, connected, pusherClient, pusherConfig, subscribed } from './pusher-helpers.js';
import { skipWithoutRedis, startRedis } from './redis-server.js';

interface PusherHookEvent {
  name: string;
  channel: string;
  user_id?: string;
  event?: string;
  data?: string;
  socket_id?: string;
}

interface HookRequest {
  headers: IncomingHttpHeaders;
  rawBody: string;
  status: number;
}

interface HookReceiver {
  url: string;
  requests: HookRequest[];
  /** Events of the requests answered 200, in arrival order. */
  events: PusherHookEvent[];
  failNext(...statuses: number[]): void;
  close(): Promise<void>;
}

/** A webhook backend that records every request and answers the scripted statuses, then 200. */
async function startHookReceiver(): Promise<HookReceiver> {
  const plan: number[] = [];
  const rx: HookReceiver = { url: '', requests: [], events: [], failNext: (...s) => void plan.push(...s), close: () => new Promise((r) => server.close(() => r())) };
  const server: Server = createServer((req, res) => {
    let rawBody = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (rawBody += c));
    req.on('end', () => {
      const status = plan.shift() ?? 200;
      rx.requests.push({ headers: req.headers, rawBody, status });
      if (status === 200) rx.events.push(...(JSON.parse(rawBody) as { events: PusherHookEvent[] }).events);
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  rx.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pusher/webhooks`;
  return rx;
}

const fast = { batchMaxWait: '20ms', retryMinDelay: '50ms', retryMaxDelay: '100ms', timeout: '2s', lease: '3s' };
const OTHER = { id: 'app2', key: 'app2-key', secret: 'app2-secret-0123456789' };

let t: TestGateway | undefined;
let rx: HookReceiver | undefined;
const clients: PusherClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  await t?.close();
  await rx?.close();
  t = rx = undefined;
});

async function setup(events?: string[]): Promise<{ t: TestGateway; rx: HookReceiver }> {
  rx = await startHookReceiver();
  const webhook = events ? { url: rx.url, events } : { url: rx.url };
  t = await startTestGateway({ pusher: { apps: [{ ...APP, webhooks: [webhook] }, OTHER] }, webhooks: fast });
  return { t, rx };
}

async function client(port: number, user?: string): Promise<PusherClient> {
  const c = pusherClient(port, user ? { user: { id: user } } : {});
  clients.push(c);
  return connected(c);
}

function find(rx: HookReceiver, want: Partial<PusherHookEvent>): PusherHookEvent | undefined {
  return rx.events.find((e) => Object.entries(want).every(([k, v]) => e[k as keyof PusherHookEvent] === v));
}

async function waitFor(rx: HookReceiver, want: Partial<PusherHookEvent>): Promise<PusherHookEvent> {
  await until(() => find(rx, want) !== undefined, 10_000, `webhook ${JSON.stringify(want)}`);
  return find(rx, want)!;
}

/** The real server SDK's check, as a Pusher backend's webhook route does it. */
function sdkValid(req: HookRequest, secret = APP.secret): boolean {
  const sdk = new Pusher({ appId: APP.id, key: APP.key, secret, cluster: 'mt1' });
  return sdk.webhook({ headers: req.headers as Record<string, string>, rawBody: req.rawBody }).isValid();
}

describe('Pusher webhooks', () => {
  it('channel_occupied and channel_vacated for a public channel, signed as Pusher signs them', async () => {
    const { t, rx } = await setup();
    const alice = await client(t.port);
    await subscribed(alice, 'room-1');
    expect(await waitFor(rx, { name: 'channel_occupied' })).toEqual({ name: 'channel_occupied', channel: 'room-1' });
    alice.unsubscribe('room-1');
    expect(await waitFor(rx, { name: 'channel_vacated' })).toEqual({ name: 'channel_vacated', channel: 'room-1' });

    const req = rx.requests[0]!;
    expect(req.headers['x-pusher-key']).toBe(APP.key);
    expect(req.headers['x-pusher-signature']).toMatch(/^[0-9a-f]{64}$/);
    expect(req.headers['content-type']).toBe('application/json');
    const body = JSON.parse(req.rawBody) as { time_ms: number; events: unknown[] };
    expect(Object.keys(body)).toEqual(['time_ms', 'events']);
    expect(Math.abs(body.time_ms - Date.now())).toBeLessThan(10_000);
    for (const r of rx.requests) expect(sdkValid(r)).toBe(true);
    expect(sdkValid(req, 'a-wrong-secret-0123456789')).toBe(false);
    expect(sdkValid({ ...req, rawBody: req.rawBody.replace('room-1', 'room-2') })).toBe(false);
  });

  it('member_added and member_removed per user on a presence channel', async () => {
    const { t, rx } = await setup();
    const alice = await client(t.port, 'alice');
    await subscribed(alice, 'presence-lobby');
    await waitFor(rx, { name: 'member_added', user_id: 'alice' });
    const bob = await client(t.port, 'bob');
    await subscribed(bob, 'presence-lobby');
    expect(await waitFor(rx, { name: 'member_added', user_id: 'bob' })).toEqual({ name: 'member_added', channel: 'presence-lobby', user_id: 'bob' });
    bob.disconnect();
    expect(await waitFor(rx, { name: 'member_removed' })).toEqual({ name: 'member_removed', channel: 'presence-lobby', user_id: 'bob' });
    const names = rx.events.map((e) => `${e.name}${e.user_id ? `:${e.user_id}` : ''}`);
    expect(names).toEqual(['channel_occupied', 'member_added:alice', 'member_added:bob', 'member_removed:bob']);
  });

  it('client_event with the event, its data as a string, the socket id, and the user on presence only', async () => {
    const { t, rx } = await setup(['client_event']);
    const alice = await client(t.port, 'alice');
    const bob = await client(t.port, 'bob');
    const a = await subscribed(alice, 'presence-chat');
    await subscribed(bob, 'presence-chat');
    const p = await subscribed(alice, 'private-doc');
    await subscribed(bob, 'private-doc');
    expect(a.channel.trigger('client-typing', { typing: true })).toBe(true);
    expect(p.channel.trigger('client-edit', 'plain text')).toBe(true);
    const onPresence = await waitFor(rx, { event: 'client-typing' });
    expect(onPresence).toEqual({
      name: 'client_event',
      channel: 'presence-chat',
      event: 'client-typing',
      data: '{"typing":true}',
      socket_id: alice.connection.socket_id,
      user_id: 'alice',
    });
    const onPrivate = await waitFor(rx, { event: 'client-edit' });
    expect(onPrivate).toEqual({ name: 'client_event', channel: 'private-doc', event: 'client-edit', data: 'plain text', socket_id: alice.connection.socket_id });
    // Only the events asked for.
    expect(rx.events.every((e) => e.name === 'client_event')).toBe(true);
    for (const r of rx.requests) expect(sdkValid(r)).toBe(true);
  });

  it("only the app's own channels: another app's sockets send nothing", async () => {
    const { t, rx } = await setup();
    const other = new PusherJs(OTHER.key, { cluster: 'local', wsHost: '127.0.0.1', wsPort: t.port, forceTLS: false, enabledTransports: ['ws'], disableStats: true });
    clients.push(other);
    await connected(other);
    await subscribed(other, 'room-other');
    const alice = await client(t.port);
    await subscribed(alice, 'room-mine');
    await waitFor(rx, { channel: 'room-mine' });
    await new Promise((r) => setTimeout(r, 200));
    expect(rx.events.map((e) => e.channel)).toEqual(['room-mine']);
  });

  it('signals build no event unless a Pusher webhook wants client events', async () => {
    rx = await startHookReceiver();
    const tidingsOnly = await startTestGateway({ pusher: { apps: [APP] }, webhooks: { ...fast, url: rx.url, secret: 'webhook-secret-0123456789' } });
    const noClientEvents = await startTestGateway({ pusher: { apps: [{ ...APP, webhooks: [{ url: rx.url, events: ['channel_occupied'] }] }] }, webhooks: fast });
    const withClientEvents = await startTestGateway({ pusher: { apps: [{ ...APP, webhooks: [{ url: rx.url }] }] }, webhooks: fast });
    try {
      expect([tidingsOnly, noClientEvents, withClientEvents].map((g) => g.gw.ctx.hub.events.signals)).toEqual([false, false, true]);
    } finally {
      await Promise.all([tidingsOnly.close(), noClientEvents.close(), withClientEvents.close()]);
    }
  });

  it('a failed request is retried with the same events: none is lost', async () => {
    const { t, rx } = await setup();
    rx.failNext(500);
    const alice = await client(t.port);
    await subscribed(alice, 'room-retry');
    await waitFor(rx, { name: 'channel_occupied', channel: 'room-retry' });
    expect(rx.requests.map((r) => r.status)).toEqual([500, 200]);
    const [failed, retried] = rx.requests.map((r) => JSON.parse(r.rawBody).events);
    expect(retried).toEqual(failed);
    expect(rx.events).toEqual([{ name: 'channel_occupied', channel: 'room-retry' }]);
    expect(sdkValid(rx.requests[1]!)).toBe(true);
  });
});

describe.skipIf(skipWithoutRedis)('Pusher webhooks on two Redis nodes', () => {
  it('one stream for the app: occupied once, both members, a client event from the other node, vacated once', async () => {
    const redis = await startRedis();
    rx = await startHookReceiver();
    try {
      const config = { ...pusherConfig({ webhooks: [{ url: rx.url }] }), webhooks: fast };
      const [n1, n2] = (await Promise.all([startNode(redis.url, config), startNode(redis.url, config)])) as [NodeProcess, NodeProcess];
      const alice = await client(n1.port, 'alice');
      await subscribed(alice, 'presence-team');
      await waitFor(rx, { name: 'member_added', user_id: 'alice' });
      const bob = await client(n2.port, 'bob');
      const b = await subscribed(bob, 'presence-team');
      await waitFor(rx, { name: 'member_added', user_id: 'bob' });
      b.channel.trigger('client-hello', { from: 'bob' });
      expect(await waitFor(rx, { name: 'client_event' })).toMatchObject({ channel: 'presence-team', event: 'client-hello', data: '{"from":"bob"}', user_id: 'bob' });
      alice.disconnect();
      await waitFor(rx, { name: 'member_removed', user_id: 'alice' });
      bob.disconnect();
      await waitFor(rx, { name: 'channel_vacated' });
      const names = rx.events.map((e) => `${e.name}${e.user_id ? `:${e.user_id}` : ''}`);
      expect(names).toEqual(['channel_occupied', 'member_added:alice', 'member_added:bob', 'client_event:bob', 'member_removed:alice', 'member_removed:bob', 'channel_vacated']);
      for (const r of rx.requests) expect(sdkValid(r)).toBe(true);
    } finally {
      killAllNodes();
      await redis.destroy();
    }
  }, 60_000);
});
