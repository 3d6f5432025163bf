/**
 * The dashboard on a Redis cluster of two gateway processes: a login on one
 * node is a login on the other (the cookie is signed with the shared admin
 * secret), a dashboard connected to one node receives every node's numbers
 * (the stats travel through the engine), and a disconnect from one node
 * reaches a user on the other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NodeProcess, killAllNodes, startNode } from './cluster-helpers.js';
import { RawPeer, SECRET, until } from './helpers.js';
import { type TestRedis, skipWithoutRedis, startRedis } from './redis-server.js';
import { signToken } from '@tidings/server';

const ADMIN_SECRET = 'admin-secret-cluster-0123456789';

describe.skipIf(skipWithoutRedis)('admin dashboard on a Redis cluster', () => {
  let redis: TestRedis;
  let a: NodeProcess;
  let b: NodeProcess;

  beforeAll(async () => {
    redis = await startRedis();
    const config = { admin: { secret: ADMIN_SECRET, statsInterval: '250ms' }, engine: { prefix: 'admin:' } };
    [a, b] = await Promise.all([startNode(redis.url, config), startNode(redis.url, config)]);
  }, 60_000);

  afterAll(async () => {
    killAllNodes();
    await redis?.destroy();
  });

  async function login(port: number) {
    const origin = `http://127.0.0.1:${port}`;
    const r = await fetch(`${origin}/admin/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
      body: `secret=${ADMIN_SECRET}`,
    });
    expect(r.status).toBe(303);
    return (r.headers.get('set-cookie') ?? '').split(';')[0]!;
  }

  async function adminPost(port: number, cookie: string, path: string, body: unknown) {
    const origin = `http://127.0.0.1:${port}`;
    const { csrf } = (await (await fetch(`${origin}/admin/api/session`, { headers: { cookie } })).json()) as { csrf: string };
    const r = await fetch(origin + path, { method: 'POST', headers: { cookie, origin, 'x-tidings-csrf': csrf, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as any };
  }

  it("a login on node A works on node B, and B's dashboard connection gets both nodes' numbers", async () => {
    const cookie = await login(a.port);
    const { status, body } = await adminPost(b.port, cookie, '/admin/api/token', {});
    expect(status).toBe(200);
    const admin = await new RawPeer(`ws://127.0.0.1:${b.port}/ws`).open();
    const reply = await admin.call('connect', { token: body.token, subs: [{ channel: '_tidings:stats' }] });
    expect(reply.result.subs[0].error).toBeUndefined();
    const nodeIds = () => new Set(admin.frames.filter((f) => f.type === 'pub' && f.channel === '_tidings:stats').map((f) => f.data.node.address));
    await until(() => nodeIds().size === 2, 15_000, 'stats from both nodes');
    expect([...nodeIds()].sort()).toEqual([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`].sort());
    const registry = await (await fetch(`http://127.0.0.1:${b.port}/admin/api/nodes`, { headers: { cookie } })).json();
    expect((registry as { nodes: unknown[] }).nodes).toHaveLength(2);
    admin.close();
  });

  it('a disconnect asked on node A closes the user on node B', async () => {
    const cookie = await login(a.port);
    const peer = await new RawPeer(`ws://127.0.0.1:${b.port}/ws`).open();
    expect((await peer.call('connect', { token: await signToken(SECRET, { sub: 'dora', ttlSeconds: 600 }) })).error).toBeUndefined();
    expect((await adminPost(a.port, cookie, '/admin/api/disconnect', { user: 'dora' })).status).toBe(200);
    expect((await peer.closed).code).toBe(3503);
  });
});
