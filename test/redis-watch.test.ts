/**
 * A node on the Redis engine says in its log when Redis goes away (warn) and
 * when it is back (info), with a real redis-server stopped and started again.
 * Under CI=true a missing redis-server fails.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway, makeConfig } from '@tidings/server';
import { API_KEY, SECRET, until } from './helpers.js';
import { type TestRedis, skipWithoutRedis, startRedis } from './redis-server.js';

describe.skipIf(skipWithoutRedis)('Redis down and up in the log', () => {
  let redis: TestRedis;
  let gw: Gateway;
  const lines: Array<{ level: number; msg: string; redis?: string }> = [];
  beforeAll(async () => {
    redis = await startRedis();
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const config = makeConfig({ host: '127.0.0.1', port: 0, apiKey: API_KEY, token: { hmacSecret: SECRET }, engine: { type: 'redis', redisUrl: redis.url } });
    gw = new Gateway({ config, logger: pino({ level: 'info' }, sink) });
    await gw.listen();
  });
  afterAll(async () => {
    await gw?.close(1000);
    await redis?.destroy();
  });

  it('warns once when Redis goes, and says when it is back', async () => {
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
    await redis.stop();
    await until(() => lines.some((l) => l.level === 40 && l.msg.includes('unreachable')), 10_000, 'warn line');
    const warn = lines.find((l) => l.level === 40 && l.msg.includes('unreachable'))!;
    expect(warn.redis).toBe(redis.url);
    expect(warn.msg).toContain('publishes answer 503');
    await redis.start();
    await until(() => lines.some((l) => l.level === 30 && l.msg.includes('reachable again')), 15_000, 'info line');
    // One warn per outage, however many connections dropped and retried.
    expect(lines.filter((l) => l.level === 40 && l.msg.includes('unreachable'))).toHaveLength(1);
  }, 40_000);
});
