/**
 * /metrics after a scenario that touches each metric: WebSocket and SSE
 * clients, publications, recoveries that succeed and fail, a rate-limited
 * client, refusals and disconnects. And docs/operations.md lists exactly the
 * metrics the registry has.
 */
import { readFileSync } from 'node:fs';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RawPeer, type TestGateway, connectedPeer, startTestGateway, until } from './helpers.js';
import { skipWithoutRedis, startRedis } from './redis-server.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ client: { commandRate: 5, commandBurst: 10 } });
});
afterAll(() => t?.close());

async function scrape(): Promise<string> {
  const res = await fetch(`${t.httpUrl}/metrics`);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text();
}

/** The value of one sample, `name{labels}` exactly as exposed; NaN when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : NaN;
}

describe('/metrics', () => {
  it('counts connections, users, subscriptions, traffic, latency, recoveries, refusals, rate-limit hits and disconnects', async () => {
    const a = await connectedPeer(t, 'ann');
    const b = await connectedPeer(t, 'bob');
    const first = (await a.call('subscribe', { channel: 'room' })).result;
    await b.call('subscribe', { channel: 'room' });
    const es = new EventSource(`${t.httpUrl}/sse?connect=${encodeURIComponent(JSON.stringify({ token: await t.token('cat'), subs: [{ channel: 'room' }] }))}`);
    const sseFrames: any[] = [];
    es.onmessage = (ev) => void sseFrames.push(JSON.parse(ev.data));
    await until(() => sseFrames.some((f) => f.id === 1), 10_000, 'the SSE connect reply');

    let text = await scrape();
    expect(sample(text, 'tidings_connections{transport="websocket"}')).toBe(2);
    expect(sample(text, 'tidings_connections{transport="sse"}')).toBe(1);
    expect(sample(text, 'tidings_users{transport="websocket"}')).toBe(2);
    expect(sample(text, 'tidings_users{transport="sse"}')).toBe(1);
    // room, plus each connection's personal channel
    expect(sample(text, 'tidings_subscriptions{transport="websocket"}')).toBe(4);
    expect(sample(text, 'tidings_subscriptions{transport="sse"}')).toBe(2);
    const fanoutsBefore = sample(text, 'tidings_fanout_seconds_count');

    for (let i = 0; i < 20; i++) await t.publish('room', { i, pad: 'x'.repeat(100) });
    await until(() => sseFrames.filter((f) => f.type === 'pub').length === 20, 10_000, 'SSE publications');
    await b.waitFor((f) => f.type === 'pub' && f.offset === 20);

    // Recovery: ann comes back at her position (recovered), bob with an epoch that never was (failed).
    a.close();
    const a2 = await connectedPeer(t, 'ann');
    expect((await a2.call('subscribe', { channel: 'room', since: { offset: 10, epoch: first.epoch } })).result.recovered).toBe(true);
    const b2 = await connectedPeer(t, 'bob2');
    expect((await b2.call('subscribe', { channel: 'room', since: { offset: 3, epoch: 'not-this-one' } })).result.recovered).toBe(false);

    // Rate limit: a burst past commandBurst gets error 111.
    for (let i = 0; i < 15; i++) b2.sendRaw(JSON.stringify({ id: 100 + i, method: 'presence', params: { channel: 'room' } }));
    await b2.waitFor((f) => f.error?.code === 111);

    // A refused token and a refused upgrade.
    const bad = await new RawPeer(t.wsUrl).open();
    bad.sendRaw(JSON.stringify({ id: 1, method: 'connect', params: { token: 'not.a.token' } }));
    expect((await bad.closed).code).toBe(3500);
    const wrongPath = new WebSocket(`ws://127.0.0.1:${t.port}/nope`);
    await new Promise((r) => wrongPath.once('error', r));

    es.close();
    await until(() => t.gw.connections === 3, 10_000, 'the SSE stream gone');
    await t.api('/api/user/disconnect', { user: 'bob' });
    await until(() => t.gw.connections === 2, 10_000, 'bob disconnected');

    text = await scrape();
    expect(sample(text, 'tidings_publications_total')).toBe(20);
    // 20 each to ann, bob and cat; what a recovery replays is not a delivery
    expect(sample(text, 'tidings_deliveries_total')).toBe(60);
    expect(sample(text, 'tidings_fanout_seconds_count') - fanoutsBefore).toBe(20);
    expect(sample(text, 'tidings_engine_lag_seconds_count')).toBeGreaterThanOrEqual(20);
    expect(sample(text, 'tidings_recoveries_total{result="recovered"}')).toBe(1);
    expect(sample(text, 'tidings_recoveries_total{result="failed"}')).toBe(1);
    expect(sample(text, 'tidings_rate_limited_total')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'tidings_refusals_total{transport="websocket",code="3500"}')).toBe(1);
    expect(sample(text, 'tidings_refusals_total{transport="websocket",code="404"}')).toBe(1);
    expect(sample(text, 'tidings_disconnects_total{transport="websocket",code="1005"}')).toBe(1);
    expect(sample(text, 'tidings_disconnects_total{transport="websocket",code="3503"}')).toBe(1);
    expect(sample(text, 'tidings_disconnects_total{transport="sse",code="closed"}')).toBe(1);
    expect(sample(text, 'tidings_messages_received_total{transport="websocket"}')).toBeGreaterThanOrEqual(8 + 15);
    expect(sample(text, 'tidings_received_bytes_total{transport="websocket"}')).toBeGreaterThan(500);
    // 20 publications of over 100 bytes to each of three subscribers
    expect(sample(text, 'tidings_sent_bytes_total{transport="websocket"}')).toBeGreaterThan(2 * 20 * 100);
    expect(sample(text, 'tidings_sent_bytes_total{transport="sse"}')).toBeGreaterThan(20 * 100);
    expect(sample(text, 'tidings_channels')).toBe(t.gw.ctx.hub.channelCount);
    expect(sample(text, 'tidings_connection_addresses')).toBe(1);
    // The 20 publications are in the history: some blocks held, in one step of the default size.
    expect(sample(text, 'tidings_history_memory_bytes{state="held"}')).toBeGreaterThan(0);
    expect(sample(text, 'tidings_history_memory_bytes{state="reserved"}')).toBe(256 * 1_048_576);
    a2.close();
    b2.close();
  });

  it('is listed metric by metric in docs/operations.md', async () => {
    const exposed = [...(await scrape()).matchAll(/^# TYPE (tidings_\w+) /gm)].map((m) => m[1]!).sort();
    const ops = readFileSync(new URL('../docs/operations.md', import.meta.url), 'utf8');
    const section = ops.slice(ops.indexOf('\n## Metrics\n'), ops.indexOf('Example alert rules'));
    const documented = [...section.matchAll(/^\| `(tidings_\w+)` \|/gm)].map((m) => m[1]!).sort();
    expect(exposed.length).toBeGreaterThan(10);
    expect(documented).toEqual(exposed);
  });
});

describe.skipIf(skipWithoutRedis)('/metrics on the Redis engine', () => {
  it('times the Redis round trip and the pub/sub lag of each publication', async () => {
    const redis = await startRedis();
    const r = await startTestGateway({ engine: { type: 'redis', redisUrl: redis.url } });
    try {
      const peer = await connectedPeer(r, 'ann');
      await peer.call('subscribe', { channel: 'room' });
      for (let i = 0; i < 5; i++) await r.publish('room', { i });
      await peer.waitFor((f) => f.type === 'pub' && f.offset === 5);
      let text = '';
      for (let tries = 0; tries < 100; tries++) {
        text = await (await fetch(`${r.httpUrl}/metrics`)).text();
        if (sample(text, 'tidings_fanout_seconds_count') === 5) break;
        await new Promise((done) => setTimeout(done, 20));
      }
      expect(sample(text, 'tidings_engine_lag_seconds_count')).toBe(5);
      expect(sample(text, 'tidings_fanout_seconds_count')).toBe(5);
      // The heartbeat announces the node once at start.
      expect(sample(text, 'tidings_redis_roundtrip_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'tidings_redis_roundtrip_seconds_sum')).toBeGreaterThan(0);
      peer.close();
    } finally {
      await r.close();
      await redis.stop();
    }
  });
});
