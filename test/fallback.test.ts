/**
 * Transport fallback through a proxy that refuses WebSocket upgrades (the
 * corporate-proxy case): the client falls back to SSE by itself, where
 * subscriptions, recovery and RPC work as on a WebSocket; once the proxy lets
 * upgrades through, the client moves back to the WebSocket without losing or
 * repeating a publication.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SubscribedContext, createClient } from '@tidings/client';
import { type TestGateway, startTestGateway, until } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MAX_HEAD = 16_384;

/** A loopback proxy that answers 403 to WebSocket upgrades while `refuseUpgrades` is set, and relays the rest. */
async function startUpgradeProxy(targetPort: number) {
  const open = new Set<net.Socket>();
  const state = { refuseUpgrades: true, refused: 0 };
  const server = net.createServer((client) => {
    open.add(client);
    client.on('error', () => {});
    client.on('close', () => open.delete(client));
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      if (!head.includes('\r\n\r\n') && head.length < MAX_HEAD) return;
      client.off('data', onData);
      if (state.refuseUpgrades && /^upgrade:\s*websocket/im.test(head.toString('latin1'))) {
        state.refused++;
        return void client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      }
      const upstream = net.connect(targetPort, '127.0.0.1');
      open.add(upstream);
      upstream.on('error', () => {});
      upstream.on('close', () => {
        open.delete(upstream);
        client.destroy();
      });
      client.on('close', () => upstream.destroy());
      upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
    };
    client.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    state,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    close() {
      for (const s of open) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

let t: TestGateway;
let proxy: Awaited<ReturnType<typeof startUpgradeProxy>>;
beforeAll(async () => {
  t = await startTestGateway();
  t.gw.rpc('count', async function* (n) {
    for (let i = 0; i < (n as number); i++) yield i;
    return 'done';
  });
  proxy = await startUpgradeProxy(t.port);
});
afterAll(async () => {
  await proxy?.close();
  await t?.close();
});

describe('transport fallback', () => {
  it('falls back to SSE behind a proxy that refuses upgrades, works there, and moves back without losing a publication', async () => {
    const client = createClient({
      url: proxy.wsUrl,
      transports: ['websocket', 'sse'],
      getToken: () => t.token('walled'),
      minReconnectDelay: 50,
      maxReconnectDelay: 200,
      fallbackAfter: 2,
      upgradeInterval: 300,
    });
    const got: number[] = [];
    const subscribed: SubscribedContext[] = [];
    const sub = client.subscribe<{ i: number }>('fb', {
      onPublication: (p) => void got.push(p.data.i),
      onSubscribed: (ctx) => void subscribed.push(ctx),
    });
    client.connect();
    await client.ready(10_000);
    expect(client.transport).toBe('sse');
    expect(proxy.state.refused).toBeGreaterThanOrEqual(2);
    await sub.ready(5000);

    // Subscriptions and RPC on SSE.
    for (let i = 0; i < 5; i++) await t.publish('fb', { i });
    await until(() => got.length === 5, 5000, 'live over SSE');
    const chunks: unknown[] = [];
    expect((await client.rpc('count', 5, { onChunk: (c) => void chunks.push(c) })).data).toBe('done');
    expect(chunks).toEqual([0, 1, 2, 3, 4]);

    // Recovery on SSE: the server cuts the stream, publications land in the gap.
    for (const s of t.gw.sessions()) if (s.user === 'walled') s.transport.abort();
    for (let i = 5; i < 15; i++) await t.publish('fb', { i });
    await until(() => got.length === 15, 10_000, 'recovered over SSE');
    expect(client.transport).toBe('sse');
    expect(subscribed.at(-1)).toMatchObject({ wasRecovering: true, recovered: true });

    // The proxy starts allowing upgrades while publications keep flowing: the client moves back.
    let next = 15;
    let publishing = true;
    const publisher = (async () => {
      for (let n = 0; publishing && n < 1000; n++) {
        await t.publish('fb', { i: next++ });
        await sleep(5);
      }
    })();
    await sleep(100);
    proxy.state.refuseUpgrades = false;
    const switchedAt = subscribed.length;
    await until(() => client.transport === 'websocket' && client.state === 'connected', 10_000, 'back on the WebSocket');
    await until(() => subscribed.length > switchedAt, 5000, 'resubscribed on the WebSocket');
    expect(subscribed.at(-1)).toMatchObject({ wasRecovering: true, recovered: true });
    await sleep(100);
    publishing = false;
    await publisher;
    await until(() => got.length === next, 10_000, 'every publication');
    expect(got).toEqual(Array.from({ length: next }, (_, i) => i));
    expect((await client.rpc('count', 2)).data).toBe('done');
    client.disconnect();
  });

  it('with only the WebSocket allowed by options, keeps retrying the WebSocket and never uses SSE', async () => {
    proxy.state.refuseUpgrades = true;
    const before = t.gw.stats().sseStreams;
    const client = createClient({ url: proxy.wsUrl, getToken: () => t.token('ws-only'), minReconnectDelay: 20, maxReconnectDelay: 50 });
    client.connect();
    await until(() => proxy.state.refused >= 6, 5000, 'several refused attempts');
    expect(client.state).toBe('connecting');
    expect(t.gw.stats().sseStreams).toBe(before);
    client.disconnect();
  });
});
