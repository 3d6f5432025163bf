/** POST /api/batch and HttpPublisher.batch: many publications in one request, each with its own result, in order. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpPublisher } from '@tidings/publisher';
import { API_KEY, type TestGateway, connectedPeer, startTestGateway, until } from './helpers.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t?.close());

describe('batch publishing', () => {
  it('publishes to channels and users in order, one result per item, a bad item failing alone', async () => {
    const alice = await connectedPeer(t, 'alice');
    await alice.call('subscribe', { channel: 'jobs:1' });
    const r = await t.api('/api/batch', {
      publications: [
        { channel: 'jobs:1', data: { progress: 10 } },
        { channel: 'jobs:2', data: { progress: 50 } },
        { channel: 'jobs:1', data: { progress: 20 } },
        { channel: 'jobs:1' },
        { user: 'alice', data: { notice: 'done' } },
        { channel: 'jobs:1', data: { progress: 30 }, extra: true },
      ],
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const [a, b, c, bad, toUser, unknownField] = r.body.results;
    expect([a.offset, b.offset, c.offset]).toEqual([1, 1, 2]);
    expect(bad.error.code).toBe(107);
    expect(unknownField.error.code).toBe(107);
    expect(toUser.offset).toBe(1);
    await until(() => alice.frames.filter((f) => f.type === 'pub').length === 3, 5000, 'alice publications');
    const pubs = alice.frames.filter((f) => f.type === 'pub');
    expect(pubs.map((f) => [f.channel, f.data])).toEqual([
      ['jobs:1', { progress: 10 }],
      ['jobs:1', { progress: 20 }],
      ['#alice', { notice: 'done' }],
    ]);
    alice.close();
  });

  it('refuses a body that is not a batch as a whole', async () => {
    expect((await t.api('/api/batch', { publications: [] })).status).toBe(400);
    expect((await t.api('/api/batch', { publications: Array.from({ length: 1001 }, () => ({ channel: 'x', data: 1 })) })).status).toBe(400);
    expect((await t.api('/api/batch', [])).status).toBe(400);
  });

  it('HttpPublisher.batch keys every item, so a retried batch publishes nothing twice', async () => {
    const pub = new HttpPublisher({ url: t.httpUrl, apiKey: API_KEY });
    const items = Array.from({ length: 50 }, (_, i) => ({ channel: `w:${i % 5}`, data: { i }, idempotencyKey: `k${i}` }));
    const first = await pub.batch(items);
    const again = await pub.batch(items);
    expect(again).toEqual(first);
    const h = await t.api('/api/history', { channel: 'w:0' });
    expect(h.body.publications.map((p: any) => p.data.i)).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40, 45]);
    const unkeyed = await pub.batch([{ channel: 'w:9', data: 1 }, { user: 'bob', data: 2 }]);
    expect(unkeyed.every((x) => 'offset' in x)).toBe(true);
  });
});
