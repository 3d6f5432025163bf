import { afterAll, beforeAll, describe } from 'vitest';
import { RedisEngine } from '@tidings/server';
import { engineContract } from './engine-contract.js';
import { type TestRedis, skipWithoutRedis, startRedis } from './redis-server.js';

let redis: TestRedis;

describe.skipIf(skipWithoutRedis)('redis engine', () => {
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.destroy());

  engineContract('redis', {
    async make(handler) {
      const engine = new RedisEngine({ url: redis.url, prefix: `t${Math.random().toString(36).slice(2, 8)}:` });
      await engine.start(handler);
      return engine;
    },
  });
});
