/**
 * Scale-out on a real redis-server: two gateway nodes, faults mid-stream
 * (SIGKILL, SIGTERM, Redis restart, FLUSHALL), and a checker that compares
 * the publisher's acknowledgements with every client's deliveries.
 */
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@tidings/client';
import { API_KEY, type TestGateway, connectedPeer, startTestGateway, until } from './helpers.js';
import { type Ack, type ClientLog, checkDelivery, killAllNodes, startBalancer, startNode } from './cluster-helpers.js';
import { type TestRedis, skipWithoutRedis, startRedis } from './redis-server.js';
import { signToken } from '@tidings/server';
import { SECRET } from './helpers.js';

let redis: TestRedis;

function subscriber(url: string, user: string, channel: string) {
  const log: ClientLog = { deliveries: [], lost: 0 };
  const client = createClient({ url, getToken: () => signToken(SECRET, { sub: user, ttlSeconds: 600 }), minReconnectDelay: 50, maxReconnectDelay: 400 });
  const sub = client.subscribe<{ id: number }>(channel, {
    onPublication: (p) => void log.deliveries.push({ offset: p.offset, epoch: p.epoch, id: p.data.id }),
    onSubscribed: (ctx) => {
      if (ctx.wasRecovering && !ctx.recovered) log.lost++;
    },
  });
  client.connect();
  return { client, sub, log };
}

/** Publish ids 0..n-1 one after another through `targets` (first that answers); log what was acknowledged. */
async function publishStream(targets: () => number[], channel: string, n: number, onProgress: (i: number) => Promise<void> | void) {
  const acked: Ack[] = [];
  let refused = 0;
  for (let id = 0; id < n; id++) {
    await onProgress(id);
    for (const port of targets()) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/publish`, {
          method: 'POST',
          headers: { authorization: `apikey ${API_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ channel, data: { id } }),
          signal: AbortSignal.timeout(2000),
        });
        if (res.status === 200) {
          acked.push({ ...(await res.json()), id });
          break;
        }
        if (res.status === 503) refused++;
      } catch {
        // node down: try the next one
      }
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return { acked, refused };
}

/** Poll `url` until it answers `status` (bounded), and return the last status seen. */
async function statusWithin(url: string, status: number, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  let last = 0;
  while (Date.now() < deadline) {
    last = (await fetch(url)).status;
    if (last === status) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return last;
}

async function settle(subs: Array<{ log: ClientLog }>, acked: Ack[]) {
  await until(
    () => subs.every((s) => s.log.lost > 0 || acked.every((a) => s.log.deliveries.some((d) => d.id === a.id))),
    20_000,
    'every client has every acknowledged publication',
  );
}

describe.skipIf(skipWithoutRedis)('several nodes on Redis', () => {
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => {
    killAllNodes();
    return redis?.destroy();
  });

  it('delivers through node A, in order, what node B publishes; presence and info agree', async () => {
    const engine = { type: 'redis', redisUrl: redis.url, prefix: 'inproc:' };
    const namespaces = { '': { presence: true } };
    const a: TestGateway = await startTestGateway({ engine, namespaces });
    const b: TestGateway = await startTestGateway({ engine, namespaces });
    try {
      const onA = subscriber(a.wsUrl, 'ua', 'orders');
      const peerB = await connectedPeer(b, 'ub');
      await peerB.call('subscribe', { channel: 'orders' });
      await onA.sub.ready(5000);
      for (let id = 0; id < 200; id++) await b.publish('orders', { id });
      await until(() => onA.log.deliveries.length === 200, 10_000, '200 via A');
      expect(onA.log.deliveries.map((d) => d.id)).toEqual(Array.from({ length: 200 }, (_, i) => i));
      const fromA = await a.api('/api/presence', { channel: 'orders' });
      const fromB = await b.api('/api/presence', { channel: 'orders' });
      expect(fromA.body.clients.map((c: any) => c.user).sort()).toEqual(['ua', 'ub']);
      expect(fromB.body.clients.map((c: any) => c.user).sort()).toEqual(['ua', 'ub']);
      const info = await a.api('/api/info');
      expect(info.body.nodes.map((n: any) => n.id).sort()).toEqual([a.gw.id, b.gw.id].sort());
      // A user disconnected through B is disconnected on A too.
      await b.api('/api/user/disconnect', { user: 'ua' });
      await until(() => onA.client.state === 'failed', 5000, 'control message across nodes');
      peerB.close();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('serves an SSE session on node A whose commands are POSTed to node B (no sticky sessions)', async () => {
    const engine = { type: 'redis', redisUrl: redis.url, prefix: 'sse:' };
    const a = await startTestGateway({ engine });
    const b = await startTestGateway({ engine });
    const frames: any[] = [];
    const connect = { token: await a.token('sse-user'), subs: [] };
    const es = new EventSource(`${a.httpUrl}/sse?connect=${encodeURIComponent(JSON.stringify(connect))}`);
    es.onmessage = (ev) => void frames.push(JSON.parse(ev.data));
    try {
      await until(() => frames.some((f) => f.id === 1), 5000, 'connect reply on A');
      const session = frames.find((f) => f.id === 1).result.session;
      const res = await fetch(`${b.httpUrl}/sse/command`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ session, frames: [{ id: 2, method: 'subscribe', params: { channel: 'feed' } }] }),
      });
      expect(res.status).toBe(202);
      await until(() => frames.some((f) => f.id === 2), 5000, 'subscribe reply forwarded from B to A');
      for (let id = 0; id < 5; id++) await b.publish('feed', { id });
      await until(() => frames.filter((f) => f.type === 'pub').length === 5, 5000, 'publications on the stream');
      expect(frames.filter((f) => f.type === 'pub').map((f) => f.data.id)).toEqual([0, 1, 2, 3, 4]);
    } finally {
      es.close();
      await a.close();
      await b.close();
    }
  });

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`${signal} on node A mid-stream: its clients move to node B and recover every publication once, in order`, async () => {
      const nodeA = await startNode(redis.url, { engine: { prefix: `${signal}:` } });
      const nodeB = await startNode(redis.url, { engine: { prefix: `${signal}:` } });
      const lb = await startBalancer([nodeA.port, nodeB.port]);
      const subs = Array.from({ length: 10 }, (_, i) => subscriber(lb.wsUrl, `u${i}`, 'jobs:1'));
      try {
        await until(() => subs.every((s) => s.sub.state === 'subscribed'), 10_000, 'all subscribed');
        let aDown = false;
        let stoppedIn = 0;
        const { acked } = await publishStream(() => (aDown ? [nodeB.port] : [nodeB.port, nodeA.port]), 'jobs:1', 200, async (id) => {
          if (id !== 60) return;
          const t0 = Date.now();
          nodeA.child.kill(signal);
          await nodeA.exited;
          stoppedIn = Date.now() - t0;
          aDown = true;
        });
        expect(acked).toHaveLength(200);
        await settle(subs, acked);
        for (const s of subs) {
          expect(checkDelivery(acked, s.log)).toEqual([]);
          expect(s.log.lost).toBe(0);
          expect(s.log.deliveries.map((d) => d.id)).toEqual(acked.map((a) => a.id));
        }
        if (signal === 'SIGTERM') expect(stoppedIn).toBeLessThan(5000 + 1000); // within its drain timeout
      } finally {
        for (const s of subs) s.client.disconnect();
        await lb.close();
        nodeA.child.kill('SIGKILL');
        nodeB.child.kill('SIGKILL');
      }
    });
  }

  it('survives a Redis restart mid-stream: 503s while it is down, every acknowledged publication arrives or loss is said', async () => {
    const node = await startNode(redis.url, { engine: { prefix: 'restart:' } });
    const subs = Array.from({ length: 5 }, (_, i) => subscriber(`ws://127.0.0.1:${node.port}/ws`, `r${i}`, 'jobs:2'));
    try {
      await until(() => subs.every((s) => s.sub.state === 'subscribed'), 10_000, 'all subscribed');
      let readyDuringOutage = 0;
      const { acked, refused } = await publishStream(() => [node.port], 'jobs:2', 120, async (id) => {
        if (id === 40) {
          await redis.stop();
          // The node learns of the outage when its Redis sockets close: readiness follows within moments.
          readyDuringOutage = await statusWithin(`http://127.0.0.1:${node.port}/ready`, 503, 3000);
        }
        if (id === 60) await redis.start();
      });
      expect(readyDuringOutage).toBe(503);
      expect(refused).toBeGreaterThan(0);
      expect((await fetch(`http://127.0.0.1:${node.port}/health`)).status).toBe(200);
      await settle(subs, acked);
      for (const s of subs) {
        expect(checkDelivery(acked, s.log)).toEqual([]);
        // Redis kept its data (SHUTDOWN SAVE), so nothing may be reported lost: all arrive, in order.
        expect(s.log.lost).toBe(0);
        expect(s.log.deliveries.map((d) => d.id)).toEqual(acked.map((a) => a.id));
      }
      expect(node.child.exitCode).toBeNull();
    } finally {
      for (const s of subs) s.client.disconnect();
      node.child.kill('SIGKILL');
    }
  });

  it('FLUSHALL mid-stream: subscribers learn their position is gone (new epoch), never a mismatched replay', async () => {
    const node = await startNode(redis.url, { engine: { prefix: 'flush:' } });
    const subs = Array.from({ length: 5 }, (_, i) => subscriber(`ws://127.0.0.1:${node.port}/ws`, `f${i}`, 'jobs:3'));
    try {
      await until(() => subs.every((s) => s.sub.state === 'subscribed'), 10_000, 'all subscribed');
      const { acked } = await publishStream(() => [node.port], 'jobs:3', 80, async (id) => {
        if (id === 40) await redis.command('FLUSHALL');
      });
      const epochs = new Set(acked.map((a) => a.epoch));
      expect(epochs.size).toBe(2);
      await until(() => subs.every((s) => s.log.lost >= 1), 10_000, 'loss signalled');
      await until(() => subs.every((s) => s.log.deliveries.some((d) => d.id === 79)), 10_000, 'live again');
      for (const s of subs) {
        expect(checkDelivery(acked, s.log)).toEqual([]);
        const newEpoch = acked[acked.length - 1]!.epoch;
        const after = s.log.deliveries.filter((d) => d.epoch === newEpoch);
        for (const d of after) expect(acked.find((a) => a.id === d.id)).toMatchObject({ offset: d.offset, epoch: d.epoch });
      }
    } finally {
      for (const s of subs) s.client.disconnect();
      node.child.kill('SIGKILL');
    }
  });
});

