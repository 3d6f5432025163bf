/**
 * The Redis engine on a real 3-primary Redis Cluster (no replicas): the engine
 * contract, two gateway nodes delivering across every primary's slots, and a
 * slot migrated between primaries mid-stream.
 */
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisEngine } from '@tidings/server';
import { keySlot } from '@tidings/streams';
import { type Ack, checkDelivery, killAllNodes, startNode } from './cluster-helpers.js';
import { engineContract } from './engine-contract.js';
import { until } from './helpers.js';
import { loggingClient, publishOnce, publishSeries, settleLogs } from './topology-helpers.js';
import { SCRIPT_COMMANDS, type TestCluster, commandCalls, skipWithoutRedisTools, startRedisCluster } from './redis-server.js';

/** Calls of the commands a publish makes (its script, by SHA or not, and the pub/sub it sends), from `INFO commandstats`. */
const publishCalls = (info: string) => commandCalls(info, [...SCRIPT_COMMANDS, 'spublish', 'publish']);

describe.skipIf(skipWithoutRedisTools)('redis engine on Redis Cluster', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(() => cluster?.destroy());

  engineContract('redis cluster', {
    async make(handler) {
      const engine = new RedisEngine({
        url: 'redis://127.0.0.1',
        topology: { kind: 'cluster', url: 'redis://127.0.0.1', nodes: cluster.nodes },
        prefix: `t${Math.random().toString(36).slice(2, 8)}:`,
      });
      await engine.start(handler);
      return engine;
    },
  });

  /** An engine on the cluster under a fresh prefix, and a plain connection to each primary (to read its stats). */
  async function engineWithNodes() {
    const prefix = `c${Math.random().toString(36).slice(2, 8)}:`;
    const engine = new RedisEngine({ url: 'redis://127.0.0.1', topology: { kind: 'cluster', url: 'redis://127.0.0.1', nodes: cluster.nodes }, prefix });
    await engine.start({ onPublication() {}, onResync() {}, onJoin() {}, onLeave() {}, onSignal() {}, onControl() {} });
    return { engine, prefix, nodes: cluster.ports.map((port) => new Redis(port, '127.0.0.1')) };
  }

  it("runs a channel's publish on its slot's primary only: the other primaries see none of it", async () => {
    const { engine, prefix, nodes } = await engineWithNodes();
    try {
      // 100 channels whose slots the first primary owns (their keys carry the `{channel}` hash tag).
      const candidates = Array.from({ length: 600 }, (_, i) => `jobs:${i}`);
      const owners = await cluster.ownersOf(candidates.map((ch) => keySlot(`${prefix}{${ch}}:m`)));
      const target = owners[0]!;
      const mine = candidates.filter((_, i) => owners[i] === target).slice(0, 100);
      expect(mine).toHaveLength(100);
      await engine.broker.publish(mine[0]!, '0', { history: { size: 10, ttlMs: 60_000 } }); // scripts loaded, connections up
      await Promise.all(nodes.map((n) => n.call('CONFIG', 'RESETSTAT')));
      for (const ch of mine) await engine.broker.publish(ch, '1', { history: { size: 10, ttlMs: 60_000 } });
      const calls = await Promise.all(nodes.map(async (n) => publishCalls(String(await n.call('INFO', 'commandstats')))));
      cluster.ports.forEach((port, i) => {
        if (port === target) expect(calls[i], `primary ${port}`).toBeGreaterThanOrEqual(200); // the script, and its SPUBLISH
        else expect(calls[i], `primary ${port}`).toBe(0);
      });
    } finally {
      for (const n of nodes) n.disconnect();
      await engine.close();
    }
  });

  it('batches concurrent publishes per hash slot over every primary (two channels of one slot among them): no cross-slot call, offsets in call order, far fewer script calls', async () => {
    const { engine, prefix, nodes } = await engineWithNodes();
    try {
      // Two channels whose keys share a slot (found among candidates), and channels on every primary.
      const slotOf = (ch: string) => keySlot(`${prefix}{${ch}}:s`);
      const bySlot = new Map<number, string>();
      let pair: string[] = [];
      for (let i = 0; pair.length === 0; i++) {
        const ch = `jobs:${i}`;
        const other = bySlot.get(slotOf(ch));
        if (other) pair = [other, ch];
        else bySlot.set(slotOf(ch), ch);
      }
      const spread = Array.from({ length: 30 }, (_, i) => `spread:${i}`);
      const owners = await cluster.ownersOf(spread.map(slotOf));
      expect(new Set(owners)).toEqual(new Set(cluster.ports));
      const channels = [...pair, ...spread];
      const history = { history: { size: 100, ttlMs: 60_000 } };
      for (const ch of channels) await engine.broker.publish(ch, '0', history); // scripts loaded everywhere
      await Promise.all(nodes.map((n) => n.call('CONFIG', 'RESETSTAT')));
      const rounds = 20;
      const calls = Array.from({ length: rounds }, () => channels).flat();
      const acks = await Promise.all(calls.map((ch, i) => engine.broker.publish(ch, String(i), history)));
      for (const ch of channels) expect(acks.filter((_, i) => calls[i] === ch).map((a) => a.offset)).toEqual(Array.from({ length: rounds }, (_, k) => k + 2));
      const infos = await Promise.all(nodes.map(async (n) => String(await n.call('INFO', 'commandstats'))));
      const scripts = infos.reduce((sum, info) => sum + commandCalls(info, SCRIPT_COMMANDS), 0);
      // Without batching: one script call per publication (640).
      expect(scripts).toBeLessThan(calls.length / 4);
    } finally {
      for (const n of nodes) n.disconnect();
      await engine.close();
    }
  });

  it('computes the slot the cluster computes for any key (CLUSTER KEYSLOT)', async () => {
    expect(keySlot('123456789')).toBe(12739); // the CRC16/XMODEM check value, mod 16384
    const node = new Redis(cluster.ports[0]!, '127.0.0.1');
    try {
      const key = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 12 }), fc.string({ maxLength: 8 })).map(([a, b, c]) => `${a}{${b}}${c}`));
      await fc.assert(
        fc.asyncProperty(key, async (k) => {
          expect(keySlot(k)).toBe(Number(await node.call('CLUSTER', 'KEYSLOT', k)));
        }),
        { numRuns: 300 },
      );
    } finally {
      node.disconnect();
    }
  });
});

describe.skipIf(skipWithoutRedisTools)('gateway nodes on Redis Cluster', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(() => {
    killAllNodes();
    return cluster?.destroy();
  });

  const nodeConfig = (prefix: string) => ({ engine: { prefix, redis: { cluster: cluster.nodes } } });
  const seed = () => `redis://${cluster.nodes[0]}`;

  it('two nodes deliver 1,000 publications on 100 channels over every primary to clients on both, once each, in order', async () => {
    const channels = Array.from({ length: 100 }, (_, i) => `spread-${i}`);
    const owners = new Set(await cluster.ownersOf(channels.map((c) => keySlot(c))));
    expect(owners).toEqual(new Set(cluster.ports));
    const a = await startNode(seed(), nodeConfig('spread:'));
    const b = await startNode(seed(), nodeConfig('spread:'));
    const clients = [a, a, b, b].map((n, i) => loggingClient(`ws://127.0.0.1:${n.port}/ws`, `s${i}`, channels));
    try {
      await until(() => clients.every((c) => c.subscribed()), 20_000, 'all subscribed');
      const acked = new Map<string, Ack[]>(channels.map((c) => [c, []]));
      for (let round = 0; round < 10; round++) {
        await Promise.all(
          channels.map(async (channel, i) => {
            const ack = await publishOnce([(i + round) % 2 === 0 ? a.port : b.port], channel, round);
            if (ack) acked.get(channel)!.push(ack);
          }),
        );
      }
      expect([...acked.values()].reduce((n, list) => n + list.length, 0)).toBe(1000);
      const logs = clients.flatMap((c) => channels.map((ch) => ({ ch, log: c.logs.get(ch)! })));
      await until(() => logs.every(({ ch, log }) => log.deliveries.length >= acked.get(ch)!.length), 20_000, 'every delivery');
      for (const { ch, log } of logs) {
        expect(checkDelivery(acked.get(ch)!, log)).toEqual([]);
        expect(log.lost).toBe(0);
        expect(log.deliveries.map((d) => d.id)).toEqual(Array.from({ length: 10 }, (_, i) => i));
      }
    } finally {
      for (const c of clients) c.client.disconnect();
      a.child.kill('SIGKILL');
      b.child.kill('SIGKILL');
    }
  }, 90_000);

  it('a slot migrated to another primary mid-stream loses nothing', async () => {
    const channel = 'moving';
    const slot = keySlot(channel);
    const from = await cluster.ownerOf(slot);
    const to = cluster.ports.find((p) => p !== from)!;
    const a = await startNode(seed(), nodeConfig('move:'));
    const b = await startNode(seed(), nodeConfig('move:'));
    const clients = [a, b, a, b].map((n, i) => loggingClient(`ws://127.0.0.1:${n.port}/ws`, `m${i}`, [channel]));
    try {
      await until(() => clients.every((c) => c.subscribed()), 20_000, 'all subscribed');
      let migration: Promise<void> | undefined;
      const { acked } = await publishSeries(() => [a.port, b.port], channel, 200, (id) => {
        if (id === 60) migration = cluster.migrateSlot(slot, to);
      });
      await migration;
      expect(await cluster.ownerOf(slot)).toBe(to);
      expect(acked.length).toBeGreaterThan(150);
      const logs = clients.map((c) => c.logs.get(channel)!);
      await settleLogs(logs, acked);
      for (const log of logs) {
        expect(checkDelivery(acked, log)).toEqual([]);
        expect(log.lost).toBe(0);
        expect(log.deliveries.map((d) => d.id)).toEqual(acked.map((x) => x.id));
      }
      // Live again on the new primary, through both nodes.
      const after = await publishOnce([a.port], channel, 1000);
      expect(after).toBeDefined();
      await until(() => logs.every((log) => log.deliveries.some((d) => d.id === 1000)), 10_000, 'live after the move');
    } finally {
      for (const c of clients) c.client.disconnect();
      a.child.kill('SIGKILL');
      b.child.kill('SIGKILL');
    }
  }, 90_000);
});
