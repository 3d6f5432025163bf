/**
 * The Pusher protocol on two gateway nodes sharing a real redis-server:
 * pusher-js clients on different nodes see one member list, arrivals and
 * departures from the other node, each other's client events, and every
 * event in the same order as a native @tidings/client on a third connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawPeer, SECRET, until } from './helpers.js';
import { type NodeProcess, killAllNodes, startNode } from './cluster-helpers.js';
import { type TestRedis, skipWithoutRedis, startRedis } from './redis-server.js';
import { collect, connected, pusherClient, pusherConfig, serverSdk, subscribed } from './pusher-helpers.js';
import type { PusherClient } from './pusher-helpers.js';
import { signToken } from '@tidings/server';

let redis: TestRedis;
let nodes: NodeProcess[] = [];
const clients: PusherClient[] = [];

describe.skipIf(skipWithoutRedis)('Pusher across two nodes on Redis', () => {
  beforeAll(async () => {
    redis = await startRedis();
    nodes = await Promise.all([startNode(redis.url, pusherConfig()), startNode(redis.url, pusherConfig())]);
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    killAllNodes();
    await redis?.destroy();
  });

  function on(node: NodeProcess, user?: { id: string; info?: Record<string, unknown> }): Promise<PusherClient> {
    const p = pusherClient(node.port, user ? { user } : {});
    clients.push(p);
    return connected(p);
  }

  it('shares members, member events and client events between nodes', async () => {
    const [n1, n2] = nodes as [NodeProcess, NodeProcess];
    const alice = await on(n1, { id: 'alice', info: { name: 'Alice' } });
    const a = await subscribed(alice, 'presence-team');
    const added: any[] = [];
    const removed: any[] = [];
    a.channel.bind('pusher:member_added', (m: unknown) => added.push(m));
    a.channel.bind('pusher:member_removed', (m: unknown) => removed.push(m));
    const whispers = collect(a.channel, 'client-hello');

    const bob = await on(n2, { id: 'bob', info: { name: 'Bob' } });
    const b = await subscribed(bob, 'presence-team');
    expect(Object.keys(b.data.members).sort()).toEqual(['alice', 'bob']);
    expect(b.data.members.alice).toEqual({ name: 'Alice' });
    await until(() => added.length === 1);
    expect(added[0]).toMatchObject({ id: 'bob', info: { name: 'Bob' } });

    const users = await (await serverSdk(n1.port).get({ path: '/channels/presence-team/users' })).json();
    expect(users.users.map((u: { id: string }) => u.id).sort()).toEqual(['alice', 'bob']);

    b.channel.trigger('client-hello', { from: 'bob' });
    await until(() => whispers.length === 1);
    expect(whispers).toEqual([{ from: 'bob' }]);

    bob.disconnect();
    await until(() => removed.length === 1, 15_000);
    expect(removed[0]).toMatchObject({ id: 'bob' });
  });

  it('delivers events in one order to pusher-js on both nodes and to a native client', async () => {
    const [n1, n2] = nodes as [NodeProcess, NodeProcess];
    const p1 = await on(n1);
    const p2 = await on(n2);
    const got1 = collect((await subscribed(p1, 'ticker')).channel, 'tick');
    const got2 = collect((await subscribed(p2, 'ticker')).channel, 'tick');
    const native = await new RawPeer(`ws://127.0.0.1:${n2.port}/ws`).open();
    await native.call('connect', { token: await signToken(SECRET, { sub: 'native', ttlSeconds: 600 }) });
    expect((await native.call('subscribe', { channel: 'pusher.app1:ticker' })).result).toBeDefined();
    const sdks = [serverSdk(n1.port), serverSdk(n2.port)];
    // Triggers alternate between the nodes, several in flight at once.
    await Promise.all(Array.from({ length: 20 }, (_, i) => sdks[i % 2]!.trigger('ticker', 'tick', { i })));
    const pubs = () => native.frames.filter((f) => f.type === 'pub');
    await until(() => got1.length === 20 && got2.length === 20 && pubs().length === 20, 15_000);
    const nativeOrder = pubs().map((f) => f.data.data.i);
    expect(got1.map((d: any) => d.i)).toEqual(nativeOrder);
    expect(got2.map((d: any) => d.i)).toEqual(nativeOrder);
    expect(new Set(nativeOrder).size).toBe(20);
    native.close();
  });
});
