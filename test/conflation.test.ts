/**
 * Conflation (docs/protocol.md, "Conflation"): on a conflatable namespace a
 * subscriber that reads far slower than the publish rate stays connected and
 * ends on the latest value, with bounded buffering; the same reader on a
 * normal channel is cut with 3008. A subscriber may also ask for conflation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@tidings/client';
import * as net from 'node:net';
import { RawPeer, type TestGateway, connectedPeer, startTestGateway, until } from './helpers.js';

const LIMIT = 256 * 1024;
const INTERVAL = 40;
const payload = 'x'.repeat(64 * 1024);
const N = 300; // ~20 MB: far beyond the queue limit plus what loopback buffers hold

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ client: { queueMaxBytes: LIMIT }, namespaces: { progress: { conflate: INTERVAL }, plain: {} } });
});
afterAll(() => t.close());

/**
 * A loopback proxy whose gateway → client direction forwards only the bytes
 * it is allowed: the reader behind it reads exactly as fast as the test says,
 * counted in bytes, not in time; `unthrottle()` lets everything through.
 */
async function throttledProxy(targetPort: number) {
  let budget = 0;
  let open = true;
  const upstreams = new Set<net.Socket>();
  const pump = (up: net.Socket, down: net.Socket) => {
    for (;;) {
      const n = open ? up.readableLength : Math.min(budget, up.readableLength);
      if (n <= 0) return;
      const chunk = up.read(n) as Buffer | null;
      if (!chunk) return;
      if (!open) budget -= chunk.length;
      down.write(chunk);
    }
  };
  const server = net.createServer((down) => {
    const up = net.connect(targetPort, '127.0.0.1');
    upstreams.add(up);
    up.on('readable', () => pump(up, down));
    down.pipe(up);
    const end = () => {
      up.destroy();
      down.destroy();
      upstreams.delete(up);
    };
    up.on('close', end).on('error', end);
    down.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const flush = () => {
    for (const up of upstreams) up.emit('readable');
  };
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    throttle() {
      open = false;
    },
    allow(bytes: number) {
      budget += bytes;
      flush();
    },
    unthrottle() {
      open = true;
      flush();
    },
    close: () => new Promise((r) => server.close(r)),
  };
}

/** A subscriber behind a throttled proxy: it reads 10% of the bytes of each publication made while `slow`. */
async function slowSubscriber(user: string, channel: string) {
  const proxy = await throttledProxy(t.port);
  const peer = await new RawPeer(proxy.url).open();
  const connected = await peer.call('connect', { token: await t.token(user) });
  if (connected.error) throw new Error(JSON.stringify(connected.error));
  const sub = await peer.call('subscribe', { channel });
  proxy.throttle();
  return { peer, proxy, sub };
}

type Proxy = Awaited<ReturnType<typeof throttledProxy>>;

/** Publish N big publications while the reader reads a tenth of their bytes; returns the largest queue seen. */
async function publishToSlowReader(channel: string, proxy: Proxy, stop: () => boolean): Promise<number> {
  let maxQueued = 0;
  for (let i = 0; i < N && !stop(); i++) {
    await t.publish(channel, { i, payload });
    proxy.allow(payload.length / 10);
    maxQueued = Math.max(maxQueued, t.gw.stats().maxQueuedBytes);
  }
  return maxQueued;
}

const pubs = (peer: RawPeer, channel: string) => peer.frames.filter((f) => f.type === 'pub' && f.channel === channel);
const cut = () => t.gw.stats().disconnects[3008] ?? 0;

describe('a reader at 10% of the publish rate', () => {
  it('stays connected on a conflatable channel and receives the latest value', async () => {
    const { peer: reader, proxy, sub } = await slowSubscriber('slow-progress', 'progress:job1');
    expect(sub.result.conflate).toBe(INTERVAL);
    let closed = false;
    void reader.closed.then(() => (closed = true));
    const maxQueued = await publishToSlowReader('progress:job1', proxy, () => closed);
    proxy.unthrottle();
    await until(() => pubs(reader, 'progress:job1').some((f) => f.data.i === N - 1), 20_000, 'the latest value');

    expect(closed).toBe(false);
    expect(cut()).toBe(0);
    const got = pubs(reader, 'progress:job1');
    expect(got.length).toBeLessThan(N); // conflated: it skipped publications…
    const offsets = got.map((f) => f.offset);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b)); // …in order, each at most once
    expect(new Set(offsets).size).toBe(offsets.length);
    expect(maxQueued).toBeLessThanOrEqual(LIMIT); // and its queue never came near the limit

    // History still holds every publication.
    const h = await t.api('/api/history', { channel: 'progress:job1', limit: N });
    expect(h.body.publications.length).toBe(N);
    reader.close();
    await proxy.close();
  });

  it('is cut with 3008 on a normal channel', async () => {
    const { peer: reader, proxy, sub } = await slowSubscriber('slow-plain', 'plain:job1');
    expect(sub.result.conflate).toBeUndefined();
    const before = cut();
    await publishToSlowReader('plain:job1', proxy, () => cut() > before);
    await until(() => cut() === before + 1, 20_000, 'slow disconnect');
    proxy.unthrottle();
    const { code } = await reader.closed;
    expect(code).toBe(3008);
    await proxy.close();
  });
});

describe('asking for conflation', () => {
  it('is at least the namespace interval, and refused on a namespace that is not conflatable', async () => {
    const peer = await connectedPeer(t, 'asker');
    expect((await peer.call('subscribe', { channel: 'progress:a', conflate: 5 })).result.conflate).toBe(INTERVAL);
    expect((await peer.call('subscribe', { channel: 'progress:b', conflate: 500 })).result.conflate).toBe(500);
    const refused = await peer.call('subscribe', { channel: 'plain:a', conflate: 500 });
    expect(refused.error.code).toBe(108);
    const bad = await peer.call('subscribe', { channel: 'progress:c', conflate: -1 });
    expect(bad.error.code).toBe(107);
    peer.close();
  });

  it('gives an SDK subscriber the latest value, its jumping offsets taken as expected', async () => {
    const client = createClient({ url: t.wsUrl, getToken: () => t.token('sdk-conflate') });
    const seen: number[] = [];
    let resubscribes = 0;
    const sub = client.subscribe<{ i: number }>('progress:sdk', { conflate: 200, onPublication: (p) => seen.push(p.data.i) });
    sub.on('subscribing', () => resubscribes++);
    client.connect();
    await sub.ready(10_000);
    resubscribes = 0;
    const M = 40;
    for (let i = 0; i < M; i++) await t.publish('progress:sdk', { i });
    await until(() => seen.includes(M - 1), 10_000, 'the latest value');
    expect(seen.length).toBeLessThan(M);
    expect(resubscribes).toBe(0); // a conflated jump is not a gap
    client.disconnect();
  });
});
