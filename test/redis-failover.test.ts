/**
 * Failover on real redis-server processes: Sentinel promoting the replica
 * after a SIGKILL of the primary, and a forced rollback (a replica that
 * missed acknowledged publications promoted in the primary's place), checked
 * against what the publisher was acknowledged and what every client holds.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { RedisEngine } from '@tidings/server';
import { checkDelivery, killAllNodes, startNode } from './cluster-helpers.js';
import { API_KEY, startTestGateway, until } from './helpers.js';
import { type TestRedis, cli, skipWithoutRedisTools, startRedis, startSentinelSet } from './redis-server.js';
import { loggingClient, positionConflicts, publishOnce, publishSeries, settleLogs, startSwitchProxy } from './topology-helpers.js';

describe.skipIf(skipWithoutRedisTools)('Redis failover', () => {
  afterAll(() => killAllNodes());

  it('Sentinel: SIGKILL of the primary mid-stream; every client holds every acknowledged publication or was told, publishing resumes on the promoted replica', async () => {
    const set = await startSentinelSet();
    const config = { engine: { prefix: 'sentinel:', redis: { sentinels: set.sentinels, name: set.name } } };
    const a = await startNode('redis://127.0.0.1', config);
    const b = await startNode('redis://127.0.0.1', config);
    const clients = [a, b, a, b, a, b].map((n, i) => loggingClient(`ws://127.0.0.1:${n.port}/ws`, `f${i}`, ['jobs:fo']));
    try {
      await until(() => clients.every((c) => c.subscribed()), 20_000, 'all subscribed');
      const { acked, refused } = await publishSeries(() => [a.port, b.port], 'jobs:fo', 200, async (id) => {
        if (id === 50) set.kill(set.primaryPort);
        if (id > 50) await new Promise((r) => setTimeout(r, 20)); // keep publishing through the failover
      });
      let promoted = 0;
      for (let i = 0; i < 300 && promoted !== set.replicaPort; i++) {
        promoted = await set.currentPrimary().catch(() => 0);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(promoted).toBe(set.replicaPort);
      // Resumes without a restart: the same nodes take publishes again.
      for (let id = 1000; id < 1010; id++) {
        let ack;
        for (let attempt = 0; attempt < 100 && !ack; attempt++) {
          ack = await publishOnce([a.port, b.port], 'jobs:fo', id);
          if (!ack) await new Promise((r) => setTimeout(r, 100));
        }
        expect(ack).toBeDefined();
        acked.push(ack!);
      }
      expect(refused).toBeGreaterThan(0);
      const logs = clients.map((c) => c.logs.get('jobs:fo')!);
      await settleLogs(logs, acked);
      for (const log of logs) expect(checkDelivery(acked, log)).toEqual([]);
      expect(positionConflicts(acked, logs)).toEqual([]);
      await until(() => logs.every((log) => log.deliveries.some((d) => d.id === 1009)), 15_000, 'live on the promoted replica');
      expect(a.child.exitCode).toBeNull();
      expect(b.child.exitCode).toBeNull();
    } finally {
      for (const c of clients) c.client.disconnect();
      a.child.kill('SIGKILL');
      b.child.kill('SIGKILL');
      await set.destroy();
    }
  }, 120_000);

  // `fence`: the nodes holding the channel publish right after the switch (the publish script's fence starts the new epoch);
  // `check`: a node holding nothing publishes, after the holders' rollback check has run (it alone must start the new epoch).
  for (const mode of ['fence', 'check'] as const) {
    it(`a promoted replica that missed acknowledged publications (${mode}): clients learn recovered: false and a new epoch, never two publications under one position`, async () => {
      const primary: TestRedis = await startRedis();
      const replica: TestRedis = await startRedis();
      const proxy = await startSwitchProxy(primary.port);
      const config = { engine: { prefix: `rollback-${mode}:` } };
      const a = await startNode(proxy.url, config);
      const b = await startNode(proxy.url, config);
      const c = await startNode(proxy.url, config);
      const clients = [a, b, a, b].map((n, i) => loggingClient(`ws://127.0.0.1:${n.port}/ws`, `r${i}`, ['jobs:rb']));
      const logs = clients.map((x) => x.logs.get('jobs:rb')!);
      try {
        await replica.command('REPLICAOF', '127.0.0.1', String(primary.port));
        await waitForLink(replica.port);
        await until(() => clients.every((x) => x.subscribed()), 20_000, 'all subscribed');
        let switched = false;
        const { acked } = await publishSeries(() => (switched && mode === 'check' ? [c.port] : [a.port, b.port]), 'jobs:rb', 120, async (id) => {
          if (id === 40) {
            // Replication stops here: the replica keeps ids 0..39 only.
            await waitForReplica(primary.port, replica.port);
            await replica.command('REPLICAOF', 'NO', 'ONE');
          }
          if (id === 80) {
            proxy.switchTo(replica.port); // ids 40..79 were acknowledged by the primary: the replica never had them
            switched = true;
            if (mode === 'check') await until(() => logs.every((log) => log.lost >= 1), 20_000, 'clients told before anyone publishes');
          }
        });
        const before = acked.filter((x) => x.id < 80);
        const after = acked.filter((x) => x.id >= 80);
        expect(before).toHaveLength(80);
        expect(after.length).toBeGreaterThan(20);
        // The stream started over: the publications after the switch are in a new epoch.
        expect(new Set(after.map((x) => x.epoch)).has(before[0]!.epoch)).toBe(false);
        await settleLogs(logs, acked);
        for (const log of logs) {
          expect(checkDelivery(acked, log)).toEqual([]);
          expect(log.lost).toBeGreaterThanOrEqual(1);
        }
        expect(positionConflicts(acked, logs)).toEqual([]);
        const last = after[after.length - 1]!.id;
        await until(() => logs.every((log) => log.deliveries.some((d) => d.id === last)), 15_000, 'live in the new epoch');
      } finally {
        for (const x of clients) x.client.disconnect();
        for (const n of [a, b, c]) n.child.kill('SIGKILL');
        await proxy.close();
        await primary.destroy();
        await replica.destroy();
      }
    }, 90_000);
  }
});

describe.skipIf(skipWithoutRedisTools)('engine.redis.waitReplicas', () => {
  it('acknowledges a publish once a replica has it, and answers 503 when fewer replicas confirm in time', async () => {
    const primary = await startRedis();
    const replica = await startRedis();
    const gateways = [];
    try {
      await replica.command('REPLICAOF', '127.0.0.1', String(primary.port));
      await waitForLink(replica.port);
      const engine = (waitReplicas: number) => ({ type: 'redis', redisUrl: primary.url, prefix: `wait${waitReplicas}:`, redis: { waitReplicas, waitTimeout: '300ms' } });
      const one = await startTestGateway({ engine: engine(1) });
      const two = await startTestGateway({ engine: engine(2) });
      gateways.push(one, two);
      const publish = (gw: typeof one) =>
        fetch(`${gw.httpUrl}/api/publish`, { method: 'POST', headers: { authorization: `apikey ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'w', data: { id: 1 } }) });
      const ok = await publish(one);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ offset: 1 });
      // Acknowledged means on the replica: it is there the moment the answer is.
      expect(await cli(replica.port, 'HGET', 'wait1:{w}:m', 'o')).toBe('1');
      const refused = await publish(two);
      expect(refused.status).toBe(503);
      expect((await refused.json()).error.code).toBe(113);
      const strict = new RedisEngine({ url: primary.url, prefix: 'wait2:', waitReplicas: 2, waitTimeoutMs: 200 });
      await strict.start({ onPublication() {}, onResync() {}, onJoin() {}, onLeave() {}, onSignal() {}, onControl() {} });
      await expect(strict.broker.publish('w', '1', { history: { size: 10, ttlMs: 60_000 } })).rejects.toThrow(/not confirmed by 2 replica\(s\) in time \(1 had it\)/);
      await strict.close();
    } finally {
      for (const gw of gateways) await gw.close();
      await primary.destroy();
      await replica.destroy();
    }
  }, 30_000);
});

async function waitForLink(replicaPort: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await cli(replicaPort, 'INFO', 'replication')).includes('master_link_status:up')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the replica did not connect');
}

/** Until the replica has applied everything the primary has written (bounded). */
async function waitForReplica(primaryPort: number, replicaPort: number): Promise<void> {
  const offset = async (port: number, field: string) => Number(new RegExp(`${field}:(\\d+)`).exec(await cli(port, 'INFO', 'replication'))?.[1] ?? -1);
  const target = await offset(primaryPort, 'master_repl_offset');
  for (let i = 0; i < 200; i++) {
    if ((await offset(replicaPort, 'slave_repl_offset')) >= target) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the replica did not catch up');
}
