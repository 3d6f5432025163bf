/**
 * A client that never reads is cut once its queue passes the limit (3008),
 * the server's per-connection buffering stays bounded, and everyone else
 * receives every publication.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type TestGateway, connectedPeer, startTestGateway, until } from './helpers.js';

const LIMIT = 256 * 1024;
let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ client: { queueMaxBytes: LIMIT } });
});
afterAll(() => t.close());

it('disconnects a consumer that never reads, and nobody else misses anything', async () => {
  const readers = await Promise.all([connectedPeer(t, 'r1'), connectedPeer(t, 'r2')]);
  for (const r of readers) await r.call('subscribe', { channel: 'firehose' });
  const sleeper = await connectedPeer(t, 'sleeper');
  await sleeper.call('subscribe', { channel: 'firehose' });
  sleeper.ws.pause(); // stop reading from the socket: the kernel buffers fill, then the server's queue

  const payload = 'x'.repeat(16 * 1024);
  const N = 400; // ~6.5 MB, far beyond the limit plus what loopback buffers hold
  let maxQueued = 0;
  for (let i = 0; i < N; i++) {
    await t.publish('firehose', { i, payload });
    maxQueued = Math.max(maxQueued, t.gw.stats().maxQueuedBytes);
  }
  await until(() => (t.gw.stats().disconnects[3008] ?? 0) === 1, 10_000, 'slow disconnect');
  // Bounded: no connection ever held more than the limit plus one frame.
  expect(maxQueued).toBeLessThanOrEqual(LIMIT + payload.length + 200);

  for (const r of readers) {
    await until(() => r.frames.filter((f) => f.type === 'pub').length === N, 20_000, 'reader publications');
    const got = r.frames.filter((f) => f.type === 'pub').map((f) => f.data.i);
    expect(got).toEqual(Array.from({ length: N }, (_, i) => i));
    r.close();
  }
  await until(() => t.gw.stats().connections === 0, 10_000, 'all closed');
  sleeper.ws.terminate();
});
