/** Webhooks on the memory engine: every event, batching, signatures, retries, per-channel order, the outbox bound. */
import { afterEach, describe, expect, it } from 'vitest';
import { type RawPeer, type TestGateway, connectedPeer, startTestGateway, until } from './helpers.js';
import { type Receiver, named, startReceiver } from './webhook-receiver.js';

const HOOK_SECRET = 'webhook-secret-0123456789';
const fast = { batchMaxWait: '20ms', retryMinDelay: '20ms', retryMaxDelay: '100ms', timeout: '2s', lease: '3s' };

let t: TestGateway | undefined;
let rx: Receiver | undefined;
const peers: RawPeer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  await t?.close();
  await rx?.close();
  t = rx = undefined;
});

async function setup(webhooks: Record<string, unknown> = {}) {
  rx = await startReceiver(HOOK_SECRET);
  t = await startTestGateway({
    namespaces: { room: { presence: true, publish: 'subscribers' } },
    webhooks: { url: rx.url, secret: HOOK_SECRET, ...fast, ...webhooks },
  });
  return { rx, t };
}

async function peer(t: TestGateway, user: string): Promise<RawPeer> {
  const p = await connectedPeer(t, user);
  peers.push(p);
  return p;
}

describe('webhooks (memory engine)', () => {
  it('sends every kind of event, signed, with a member counted once per user', async () => {
    const { rx, t } = await setup();
    const a1 = await peer(t, 'alice');
    const a2 = await peer(t, 'alice');
    const b = await peer(t, 'bob');
    for (const p of [a1, a2, b]) expect((await p.call('subscribe', { channel: 'room:1' })).error).toBeUndefined();
    expect((await b.call('publish', { channel: 'room:1', data: { text: 'hi', n: [1, 2] } })).error).toBeUndefined();
    await until(() => rx.events.some((e) => e.name === 'client_publication'), 10_000, 'publication event');
    a1.close();
    await until(() => rx.events.filter((e) => e.name === 'user_disconnected').length === 1, 10_000, 'a1 gone');
    expect(named(rx.events, 'member_removed')).toEqual([]); // alice still has a2 on the channel
    a2.close();
    b.close();
    await until(() => named(rx.events, 'channel_vacated').includes('room:1'), 10_000, 'vacated');
    await until(() => rx.events.filter((e) => e.name === 'user_disconnected').length === 3, 10_000, 'all gone');

    expect(rx.requests.every((r) => r.signatureValid)).toBe(true);
    expect(rx.requests[0]!.headers['tidings-webhook-id']).toMatch(/^whb_[A-Za-z0-9_-]{22}$/);
    expect(rx.requests[0]!.headers['content-type']).toBe('application/json');
    expect(named(rx.events, 'channel_occupied')).toContain('room:1');
    expect(named(rx.events, 'member_added').sort()).toEqual(['room:1/alice', 'room:1/bob']);
    expect(named(rx.events, 'member_removed').sort()).toEqual(['room:1/alice', 'room:1/bob']);
    const pub = rx.events.find((e) => e.name === 'client_publication')!;
    expect(pub).toMatchObject({ channel: 'room:1', user: 'bob', data: { text: 'hi', n: [1, 2] } });
    expect(pub.client).toEqual(expect.any(String));
    expect(rx.events.filter((e) => e.name === 'user_connected').map((e) => e.user).sort()).toEqual(['alice', 'alice', 'bob']);
    // The personal channels count as channels too: #alice is occupied while any alice connection is on.
    expect(named(rx.events, 'channel_occupied')).toContain('#alice');
    for (const e of rx.events) {
      expect(e.id).toMatch(/^evt_[A-Za-z0-9_-]{22}$/);
      expect(e.time_ms).toBeGreaterThan(0);
    }
    expect(new Set(rx.events.map((e) => e.id)).size).toBe(rx.events.length);
    expect(rx.duplicates).toBe(0);
  });

  it('keeps the order of one channel: occupied, added, publications, removed, vacated', async () => {
    const { rx, t } = await setup({ endpoints: [] });
    for (let round = 0; round < 3; round++) {
      const p = await peer(t, `u${round}`);
      await p.call('subscribe', { channel: 'room:order' });
      for (let i = 0; i < 5; i++) await p.call('publish', { channel: 'room:order', data: { round, i } });
      p.close();
      await until(() => named(rx.events, 'channel_vacated').filter((c) => c === 'room:order').length === round + 1, 10_000, `vacated ${round}`);
    }
    const order = rx.events.filter((e) => e.channel === 'room:order');
    const round = ['channel_occupied', 'member_added', 'pub0', 'pub1', 'pub2', 'pub3', 'pub4', 'member_removed', 'channel_vacated'];
    expect(order.map((e) => (e.name === 'client_publication' ? `pub${(e.data as { i: number }).i}` : e.name))).toEqual([...round, ...round, ...round]);
    // The channel's occupancy transitions are numbered in order, round after round.
    const seqs = order.filter((e) => e.name.startsWith('channel_')).map((e) => e.seq!);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(6);
    expect(order.find((e) => e.name === 'client_publication')!.seq).toBeUndefined();
  });

  it('still delivers every event, once per id, to a backend that answers 500 three times', async () => {
    const { rx, t } = await setup();
    rx.failNext(500, 500, 500);
    const p = await peer(t, 'carol');
    await p.call('subscribe', { channel: 'room:retry' });
    for (let i = 0; i < 10; i++) await p.call('publish', { channel: 'room:retry', data: { i } });
    await until(() => rx.events.filter((e) => e.name === 'client_publication').length === 10, 15_000, 'all publications');
    const statuses = rx.requests.map((r) => r.status);
    expect(statuses.slice(0, 4)).toEqual([500, 500, 500, 200]);
    // The retried batch is the same request: same id, same events.
    expect(new Set(rx.requests.slice(0, 4).map((r) => r.headers['tidings-webhook-id'])).size).toBe(1);
    expect(JSON.parse(rx.requests[3]!.body).events).toEqual(JSON.parse(rx.requests[0]!.body).events);
    expect(rx.events.filter((e) => e.name === 'client_publication').map((e) => (e.data as { i: number }).i)).toEqual([...Array(10).keys()]);
    expect(rx.duplicates).toBe(0);
  });

  it('delivers the events of a graceful shutdown before the process goes (memory outbox)', async () => {
    const { rx, t: gw } = await setup({ batchMaxWait: '1s', lease: '5s' });
    const p = await peer(gw, 'last');
    await p.call('subscribe', { channel: 'room:end' });
    await gw.close();
    t = undefined;
    expect(named(rx.events, 'member_removed')).toEqual(['room:end/last']);
    expect(named(rx.events, 'channel_vacated')).toContain('room:end');
    expect(rx.events.filter((e) => e.name === 'user_disconnected').map((e) => e.user)).toEqual(['last']);
  });

  it('batches up to batchMaxEvents per request', async () => {
    const { rx, t } = await setup({ batchMaxEvents: 4, batchMaxWait: '300ms' });
    const p = await peer(t, 'dave');
    await p.call('subscribe', { channel: 'room:batch' });
    await Promise.all(Array.from({ length: 12 }, (_, i) => p.call('publish', { channel: 'room:batch', data: { i } })));
    await until(() => rx.events.filter((e) => e.name === 'client_publication').length === 12, 10_000, 'all publications');
    const sizes = rx.requests.map((r) => JSON.parse(r.body).events.length as number);
    expect(Math.max(...sizes)).toBe(4);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(rx.events.length);
  });

  it('sends each endpoint only the events it asked for', async () => {
    const other = await startReceiver(HOOK_SECRET);
    try {
      const { rx, t } = await setup({ endpoints: [{ url: other.url, secret: HOOK_SECRET, events: ['client_publication'] }] });
      const p = await peer(t, 'erin');
      await p.call('subscribe', { channel: 'room:filter' });
      await p.call('publish', { channel: 'room:filter', data: 1 });
      await until(() => other.events.length === 1 && rx.events.some((e) => e.name === 'client_publication'), 10_000, 'both endpoints');
      expect(other.events.map((e) => e.name)).toEqual(['client_publication']);
      expect(rx.events.map((e) => e.name)).toContain('member_added');
    } finally {
      await other.close();
    }
  });

  it('drops the oldest events beyond outboxMaxEvents while the backend is down, and says so in /metrics', async () => {
    const { rx, t } = await setup({ outboxMaxEvents: 5, retryMinDelay: '1s', retryMaxDelay: '1s' });
    rx.failNext(...Array(1000).fill(503));
    const p = await peer(t, 'frank');
    await p.call('subscribe', { channel: 'room:full' });
    for (let i = 0; i < 20; i++) await p.call('publish', { channel: 'room:full', data: { i } });
    await until(() => rx.requests.length > 0, 10_000, 'a first attempt');
    const metrics = async () => (await fetch(`${t.httpUrl}/metrics`)).text();
    let text = '';
    // /metrics is read over HTTP, so poll it (bounded) rather than wait on an event.
    for (let i = 0; i < 100 && !/tidings_webhook_events_dropped_total\{[^}]*reason="outbox_full"[^}]*\} [1-9]/.test(text); i++) {
      text = await metrics();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(text).toMatch(/tidings_webhook_events_dropped_total\{[^}]*reason="outbox_full"[^}]*\} [1-9]/);
    expect(text).toMatch(/tidings_webhook_outbox_depth\{endpoint="127\.0\.0\.1:\d+\/hooks\/tidings"\} [1-5]\b/);
    expect(text).toMatch(/tidings_webhook_requests_total\{[^}]*outcome="failed"[^}]*\} [1-9]/);
  });
});
