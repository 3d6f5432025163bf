/**
 * engine.redis (config/redis.ts): Cluster and Sentinel settings from the file
 * and the environment, the topology they select, and the hash tags that keep
 * a channel's keys on one slot (checked against a real cluster in redis-cluster.test.ts).
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig, redisTopology } from '@tidings/server';
import { hashTag, keySlot } from '@tidings/streams';
import { freePort } from './helpers.js';

const secrets = { TIDINGS_API_KEY: 'test-api-key-0123456789', TIDINGS_TOKEN_SECRET: 'test-secret-0123456789-abcdefghijklmnop' };

describe('engine.redis', () => {
  it('defaults to one server at engine.redisUrl', () => {
    const config = parseConfig({ engine: { type: 'redis' } });
    expect(config.engine.redis).toEqual({ cluster: [], sentinels: [], name: 'mymaster', waitReplicas: 0, waitTimeout: 1000 });
    expect(redisTopology(config)).toEqual({ kind: 'standalone', url: 'redis://127.0.0.1:6379' });
    expect(parseConfig({}).engine.redis.cluster).toEqual([]);
  });

  it('reads cluster seeds and sentinels from the environment', () => {
    const cluster = loadConfig({ env: { ...secrets, TIDINGS_ENGINE: 'redis', TIDINGS_REDIS_CLUSTER_NODES: '10.0.0.5:7000, 10.0.0.6:7000' } }).config;
    expect(redisTopology(cluster)).toEqual({ kind: 'cluster', url: 'redis://127.0.0.1:6379', nodes: ['10.0.0.5:7000', '10.0.0.6:7000'] });
    const sentinel = loadConfig({ env: { ...secrets, TIDINGS_REDIS_URL: 'redis://:pw@x', TIDINGS_REDIS_SENTINELS: 's1:26379,s2:26379', TIDINGS_REDIS_SENTINEL_NAME: 'prod' } }).config;
    expect(redisTopology(sentinel)).toEqual({ kind: 'sentinel', url: 'redis://:pw@x', sentinels: ['s1:26379', 's2:26379'], name: 'prod' });
  });

  it('refuses both topologies at once, malformed addresses and bad WAIT settings, naming the field', () => {
    expect(() => parseConfig({ engine: { redis: { cluster: ['a:1'], sentinels: ['b:2'] } } })).toThrow(/engine\.redis: give either cluster seed nodes or sentinels/);
    expect(() => parseConfig({ engine: { redis: { cluster: ['no-port'] } } })).toThrow(/engine\.redis\.cluster\.0: expected host:port/);
    expect(() => parseConfig({ engine: { redis: { waitReplicas: -1 } } })).toThrow(ConfigError);
    expect(parseConfig({ engine: { redis: { waitReplicas: 1, waitTimeout: '250ms' } } }).engine.redis.waitTimeout).toBe(250);
  });
});

describe('tidings serve on an unreachable cluster or sentinel set', () => {
  const BIN = resolve(import.meta.dirname, '../packages/server/bin/tidings.js');
  for (const [variable, shown] of [['TIDINGS_REDIS_CLUSTER_NODES', 'cluster seeds'], ['TIDINGS_REDIS_SENTINELS', 'sentinels of mymaster']] as const) {
    it(`exits 3 and names the ${shown}`, async () => {
      const dead = await freePort();
      const r = await new Promise<{ code: number | null; stderr: string }>((done) => {
        const child = execFile(process.execPath, [BIN, 'serve', '--engine', 'redis', '--port', '0'], { env: { ...process.env, ...secrets, [variable]: `127.0.0.1:${dead}`, TIDINGS_CONFIG: '' }, timeout: 25_000 }, (_err, _out, stderr) =>
          done({ code: child.exitCode, stderr }),
        );
      });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`cannot reach Redis at 127.0.0.1:${dead} (${shown})`);
    }, 30_000);
  }
});

describe('keySlot', () => {
  it('puts every key of a channel on the channel\'s slot', () => {
    const channel = fc.stringMatching(/^[A-Za-z0-9_.:#,@=\-/]{1,60}$/);
    fc.assert(
      fc.property(channel, (ch) => {
        for (const suffix of ['s', 'm', 'p', 'i:k', 'pr', 'pz']) expect(keySlot(`tidings:{${ch}}:${suffix}`)).toBe(keySlot(ch));
        expect(hashTag(`tidings:{${ch}}:s`)).toBe(ch);
      }),
      { numRuns: 300 },
    );
  });
});
