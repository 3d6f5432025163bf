/** @tidings/publisher: the HTTP publisher retries safely; the Redis publisher reaches gateway subscribers directly. */
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@tidings/client';
import { HttpPublisher, PublishError, RedisPublisher } from '@tidings/publisher';
import { API_KEY, type TestGateway, startTestGateway, until } from './helpers.js';
import { type TestRedis, skipWithoutRedis, startRedis } from './redis-server.js';

describe('HttpPublisher', () => {
  it('retries 503s with the same idempotency key and gives up on 4xx', async () => {
    const seen: Array<{ key: string }> = [];
    let failures = 2;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push({ key: JSON.parse(body).idempotencyKey });
        if (JSON.parse(body).channel === 'forbidden') return res.writeHead(400).end('{"error":{"code":102,"message":"bad"}}');
        if (failures-- > 0) return res.writeHead(503).end('{"error":{"code":113,"message":"down"}}');
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"offset":7,"epoch":"e"}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const pub = new HttpPublisher({ url, apiKey: 'k'.repeat(16), minDelayMs: 5, maxDelayMs: 20 });
    expect(await pub.publish('jobs:1', { p: 1 })).toEqual({ offset: 7, epoch: 'e' });
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => s.key)).size).toBe(1);
    await expect(pub.publish('forbidden', 1)).rejects.toBeInstanceOf(PublishError);
    expect(seen).toHaveLength(4);
    server.close();
  });
});

describe.skipIf(skipWithoutRedis)('RedisPublisher', () => {
  let redis: TestRedis;
  let t: TestGateway;
  beforeAll(async () => {
    redis = await startRedis();
    t = await startTestGateway({ engine: { type: 'redis', redisUrl: redis.url } });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.destroy();
  });

  it('publishes straight into Redis with the gateway script: offsets continue, subscribers receive, keys dedupe', async () => {
    const client = createClient({ url: t.wsUrl, getToken: () => t.token('worker-watcher') });
    const got: Array<{ offset: number; data: unknown }> = [];
    const sub = client.subscribe('jobs:9', { onPublication: (p) => void got.push({ offset: p.offset, data: p.data }) });
    client.connect();
    await sub.ready(5000);
    await t.publish('jobs:9', { via: 'api' });
    const worker = new RedisPublisher({ redis: redis.url });
    const a = await worker.publish('jobs:9', { via: 'redis' }, 'job-9-step-2');
    const again = await worker.publish('jobs:9', { via: 'redis' }, 'job-9-step-2');
    expect(a.offset).toBe(2);
    expect(again).toEqual(a);
    await until(() => got.length === 2, 5000, 'both publications');
    expect(got).toEqual([
      { offset: 1, data: { via: 'api' } },
      { offset: 2, data: { via: 'redis' } },
    ]);
    await worker.close();
    client.disconnect();
  });
});
