/**
 * Webhooks on two Redis gateway nodes (real `tidings serve` processes): the
 * cluster-wide occupied/vacated and member events, retries of a failing
 * backend, a crashed node's share expiring, and the outbox surviving a restart.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '@tidings/server';
import { type NodeProcess, killAllNodes, startNode } from './cluster-helpers.js';
import { RawPeer, SECRET, until } from './helpers.js';
import { type TestRedis, skipWithoutRedis, startRedis } from './redis-server.js';
import { type Receiver, type ReceivedEvent, named, startReceiver } from './webhook-receiver.js';

const HOOK_SECRET = 'webhook-secret-0123456789';
let redis: TestRedis;
const nodes: NodeProcess[] = [];
const peers: RawPeer[] = [];
const receivers: Receiver[] = [];

/**
 * Shares expire a TTL after their node stops refreshing them. Tests that count
 * exact events use a TTL no scheduling stall on a loaded machine reaches (a
 * stalled node is taken for dead, and reported gone and back: the stall test
 * below); the crash tests use a short one so that expiry comes quickly.
 */
const STEADY_TTL = '10s';
const CRASH_TTL = '1s';

function nodeConfig(url: string, extra: Record<string, unknown> = {}, presenceTtl = CRASH_TTL) {
  return {
    namespaces: { room: { presence: true, publish: 'subscribers' } },
    engine: { presenceTtl },
    webhooks: { url, secret: HOOK_SECRET, batchMaxWait: '20ms', retryMinDelay: '50ms', retryMaxDelay: '200ms', timeout: '2s', lease: '3s', ...extra },
  };
}

async function node(url: string, prefix: string, extra?: Record<string, unknown>, presenceTtl?: string): Promise<NodeProcess> {
  const cfg = nodeConfig(url, extra, presenceTtl);
  const n = await startNode(redis.url, { ...cfg, engine: { ...cfg.engine, prefix } });
  nodes.push(n);
  return n;
}

async function peer(n: NodeProcess, user: string): Promise<RawPeer> {
  const p = await new RawPeer(`ws://127.0.0.1:${n.port}/ws`).open();
  peers.push(p);
  const reply = await p.call('connect', { token: await signToken(SECRET, { sub: user, ttlSeconds: 3600 }) });
  if (reply.error) throw new Error(`connect failed: ${JSON.stringify(reply.error)}`);
  return p;
}

async function receiver(port?: number): Promise<Receiver> {
  const r = await startReceiver(HOOK_SECRET, port);
  receivers.push(r);
  return r;
}

const onChannel = (events: ReceivedEvent[], channel: string) => events.filter((e) => e.channel === channel);
/** Events by name and request statuses, for a timeout's message. */
const countsOf = (rx: Receiver) => ({
  events: rx.events.reduce<Record<string, number>>((n, e) => ((n[e.name] = (n[e.name] ?? 0) + 1), n), {}),
  statuses: rx.requests.map((r) => r.status).join(','),
});
/** Two nodes on one prefix with the short TTL: ada on a, bo on b, both members of `channel` (both added seen). */
async function adaOnAboOnB(channel: string) {
  const rx = await receiver();
  const prefix = prefixFor();
  const [a, b] = [await node(rx.url, prefix), await node(rx.url, prefix)];
  const pa = await peer(a, 'ada');
  await pa.call('subscribe', { channel });
  const pb = await peer(b, 'bo');
  await pb.call('subscribe', { channel });
  await until(() => named(rx.events, 'member_added').length === 2, 10_000, 'two members');
  return { rx, a, b, pa, pb };
}

const prefixFor = () => `wh${Math.random().toString(36).slice(2, 8)}:`;

describe.skipIf(skipWithoutRedis)('webhooks on two Redis nodes', () => {
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    for (const p of peers.splice(0)) p.close();
    killAllNodes();
    nodes.length = 0;
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });
  afterAll(() => redis?.destroy());

  it('50 users across both nodes: one occupied, one vacated, every member once, through three 500s', async () => {
    const rx = await receiver();
    rx.failNext(500, 500, 500);
    const prefix = prefixFor();
    const [a, b] = [await node(rx.url, prefix, {}, STEADY_TTL), await node(rx.url, prefix, {}, STEADY_TTL)];
    const users = Array.from({ length: 50 }, (_, i) => `user${i}`);
    const conns: RawPeer[] = [];
    for (const [i, user] of users.entries()) {
      conns.push(await peer(i % 2 ? b : a, user));
      // Ten users also connect on the other node: still one member each.
      if (i < 10) conns.push(await peer(i % 2 ? a : b, user));
    }
    const replies = await Promise.all(conns.map((p) => p.call('subscribe', { channel: 'room:big' })));
    expect(replies.filter((r) => r.error)).toEqual([]);
    await until(() => named(rx.events, 'member_added').length === 50, 20_000, () => `50 members added; got ${JSON.stringify(countsOf(rx))}`);
    // Users leave in a shuffled order, connections on both nodes interleaved.
    for (const p of [...conns].sort(() => Math.random() - 0.5)) p.close();
    await until(() => named(rx.events, 'channel_vacated').includes('room:big'), 20_000, 'room vacated');
    await until(() => named(rx.events, 'member_removed').length === 50, 20_000, '50 members removed');

    const big = onChannel(rx.events, 'room:big');
    expect(named(big, 'channel_occupied')).toEqual(['room:big']);
    expect(named(big, 'channel_vacated')).toEqual(['room:big']);
    expect(big[0]!.name).toBe('channel_occupied');
    expect(big.at(-1)!.name).toBe('channel_vacated');
    expect(named(big, 'member_added').sort()).toEqual(users.map((u) => `room:big/${u}`).sort());
    expect(named(big, 'member_removed').sort()).toEqual(users.map((u) => `room:big/${u}`).sort());
    for (const user of users) {
      const mine = big.filter((e) => e.user === user);
      expect(mine.map((e) => e.name), user).toEqual(['member_added', 'member_removed']);
      expect(mine[1]!.seq!, user).toBeGreaterThan(mine[0]!.seq!);
    }
    const room = big.filter((e) => e.user === undefined);
    expect(room[1]!.seq!).toBeGreaterThan(room[0]!.seq!);
    expect(rx.requests.slice(0, 4).map((r) => r.status)).toEqual([500, 500, 500, 200]);
    expect(rx.requests.every((r) => r.signatureValid)).toBe(true);
    // Each id accounted for: every event of a refused request came again and was kept, and every accepted
    // delivery is either a first delivery or a counted duplicate (at least once may repeat, never lose).
    const idsOf = (status: (s: number) => boolean) => rx.requests.filter((r) => status(r.status)).flatMap((r) => (JSON.parse(r.body).events as ReceivedEvent[]).map((e) => e.id));
    const kept = new Set(rx.events.map((e) => e.id));
    expect(kept.size).toBe(rx.events.length);
    expect(idsOf((s) => s === 500).filter((id) => !kept.has(id))).toEqual([]);
    expect(idsOf((s) => s === 200)).toHaveLength(rx.events.length + rx.duplicates);
    // 60 connections: connected and disconnected once each.
    expect(rx.events.filter((e) => e.name === 'user_connected')).toHaveLength(60);
    await until(() => rx.events.filter((e) => e.name === 'user_disconnected').length === 60, 10_000, '60 disconnected');
  });

  it("a crashed node's share expires: vacated and member_removed once, from the node left", async () => {
    const { rx, a, pa, pb } = await adaOnAboOnB('room:crash');
    a.child.kill('SIGKILL');
    await until(() => named(rx.events, 'member_removed').includes('room:crash/ada'), 15_000, 'ada removed after expiry');
    expect(named(rx.events, 'channel_vacated')).not.toContain('room:crash'); // bo is still there
    pb.close();
    await until(() => named(rx.events, 'channel_vacated').includes('room:crash'), 15_000, 'vacated');
    const crash = onChannel(rx.events, 'room:crash').map((e) => `${e.name}${e.user ? `/${e.user}` : ''}`);
    expect(crash.filter((n) => n === 'channel_occupied')).toHaveLength(1);
    expect(crash.filter((n) => n === 'channel_vacated')).toHaveLength(1);
    expect(crash.filter((n) => n === 'member_removed/ada')).toHaveLength(1);
    expect(crash.at(-1)).toBe('channel_vacated');
  });

  it('a node that stalls past the TTL is reported gone by the other node, then back when it wakes', async () => {
    const { rx, a, pa, pb } = await adaOnAboOnB('room:stall');
    a.child.kill('SIGSTOP'); // a stall longer than the TTL: to b, a looks dead
    try {
      await until(() => named(rx.events, 'member_removed').includes('room:stall/ada'), 15_000, () => `ada removed while a is stopped; got ${JSON.stringify(countsOf(rx))}`);
    } finally {
      a.child.kill('SIGCONT');
    }
    const ada = () => onChannel(rx.events, 'room:stall').filter((e) => e.user === 'ada');
    await until(() => ada().length === 3, 15_000, () => `ada added again once a wakes; got ${JSON.stringify(ada().map((e) => e.name))}`);
    pa.close();
    pb.close();
    await until(() => named(rx.events, 'channel_vacated').includes('room:stall'), 15_000, 'vacated');
    await until(() => ada().length === 4, 15_000, () => `ada removed at the end; got ${JSON.stringify(ada().map((e) => e.name))}`);
    expect(ada().map((e) => e.name)).toEqual(['member_added', 'member_removed', 'member_added', 'member_removed']);
    const seqs = ada().map((e) => e.seq!);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    // bo held the channel throughout on b: occupied once and vacated once, whatever a did.
    const room = onChannel(rx.events, 'room:stall').filter((e) => e.user === undefined).map((e) => e.name);
    expect(room).toEqual(['channel_occupied', 'channel_vacated']);
  });

  it('keeps events queued while the backend is down across a gateway restart, and delivers them in order', async () => {
    const down = await receiver();
    const port = down.port;
    await down.close(); // the backend is down: its port refuses
    receivers.length = 0;
    const prefix = prefixFor();
    const url = `http://127.0.0.1:${port}/hooks/tidings`;
    const first = await node(url, prefix, { lease: '1s', timeout: '500ms' });
    const p = await peer(first, 'pat');
    await p.call('subscribe', { channel: 'room:restart' });
    for (let i = 0; i < 20; i++) expect((await p.call('publish', { channel: 'room:restart', data: { i } })).error).toBeUndefined();
    const key = `${prefix}{webhooks:`;
    // Events reach the outbox a little after the publishes are acknowledged: wait for the last publication's event
    // itself (a count of 20 could include the connect and occupancy events, and a SIGKILL would then lose the tail).
    const queuedLast = async () =>
      (await redis.command('EVAL', `for _,k in ipairs(redis.call('KEYS', ARGV[1])) do for _,e in ipairs(redis.call('XRANGE', k, '-', '+')) do if string.find(e[2][2], ARGV[2], 1, true) then return 1 end end end return 0`, '0', `${key}*}:q`, '{"i":19}')) === ':1';
    for (let i = 0; i < 200 && !(await queuedLast()); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await queuedLast()).toBe(true);
    first.child.kill('SIGKILL');
    await first.exited;
    await node(url, prefix, { lease: '1s', timeout: '500ms' });
    const rx = await receiver(port); // the backend is back
    await until(() => rx.events.filter((e) => e.name === 'client_publication').length === 20, 20_000, () => `the 20 queued publications; got ${JSON.stringify(countsOf(rx))}`);
    const pubs = rx.events.filter((e) => e.name === 'client_publication').map((e) => (e.data as { i: number }).i);
    expect(pubs).toEqual([...Array(20).keys()]);
    expect(onChannel(rx.events, 'room:restart')[0]!.name).toBe('channel_occupied');
    expect(rx.requests.every((r) => r.signatureValid)).toBe(true);
  });
});
