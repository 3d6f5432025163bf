/**
 * Delta compression end to end (docs/protocol.md, "Delta compression"): a
 * `delta: true` subscriber gets the first publication in full and then
 * deltas, encoded once per publication; the SDK rebuilds exactly what was
 * published, and the transcript and job-status streams take far fewer bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Publication, createClient } from '@tidings/client';
import { type RawPeer, type TestGateway, connectedPeer, startTestGateway, until } from './helpers.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t.close());

const SPEAKERS = ['Ana', 'Ben', 'Chloé'];
/** The meeting transcript as the showcase keeps it: every publication the whole transcript so far. */
function transcript(n: number) {
  return {
    meeting: 'weekly-sync',
    lines: Array.from({ length: n }, (_, i) => ({ index: i, speaker: SPEAKERS[i % 3], start: i * 7, end: i * 7 + 6, text: `Point ${i}: we agreed to ship the ${i}th item — ✓ 🎉` })),
  };
}
function jobStatus(i: number) {
  return { job: 'render-42', state: i < 29 ? 'running' : 'done', progress: Math.round((i / 29) * 100), step: i < 15 ? 'encode' : 'upload', eta: 290 - i * 10 };
}

const pubFrames = (peer: RawPeer, channel: string) => peer.frames.filter((f) => f.type === 'pub' && f.channel === channel);
const frameBytes = (peer: RawPeer, channel: string) => pubFrames(peer, channel).reduce((n, f) => n + JSON.stringify(f).length, 0);

// The transcript grows, so deltas at least halve its bytes (the target); a small status object keeps
// its frame envelope (channel, offset, epoch, time), so there they only have to be fewer.
describe.each([
  ['transcript', 'meeting:weekly', transcript, 0.5],
  ['job status', 'jobs:render-42', jobStatus, 0.9],
] as const)('the %s stream', (_name, channel, value, ratio) => {
  it('reaches a delta subscriber as deltas in fewer bytes, and the SDK sees every publication unchanged', async () => {
    const full = await connectedPeer(t, 'full-reader');
    const delta = await connectedPeer(t, 'delta-reader');
    await full.call('subscribe', { channel });
    expect((await delta.call('subscribe', { channel, delta: true })).result.delta).toBe(true);
    const seen: Array<Publication<unknown>> = [];
    const client = createClient({ url: t.wsUrl, getToken: () => t.token('sdk-delta') });
    const sub = client.subscribe(channel, { delta: true, onPublication: (p) => seen.push(p) });
    client.connect();
    await sub.ready(10_000);

    const N = 30;
    for (let i = 0; i < N; i++) await t.publish(channel, value(i));
    await until(() => seen.length === N && pubFrames(delta, channel).length === N && pubFrames(full, channel).length === N, 10_000, 'every publication');

    expect(seen.map((p) => p.data)).toEqual(Array.from({ length: N }, (_, i) => value(i)));
    expect(seen.map((p) => p.offset)).toEqual(pubFrames(full, channel).map((f) => f.offset));
    const frames = pubFrames(delta, channel);
    expect(frames[0].data).toEqual(value(0)); // nothing to build on yet: in full
    expect(frames.slice(1).every((f) => Array.isArray(f.delta) && !('data' in f))).toBe(true);
    expect(frameBytes(delta, channel)).toBeLessThanOrEqual(frameBytes(full, channel) * ratio);

    // A subscriber joining mid-stream gets the full data first, then deltas on it.
    const late = await connectedPeer(t, 'late-reader');
    await late.call('subscribe', { channel, delta: true });
    await t.publish(channel, value(N));
    await t.publish(channel, value(N + 1));
    await until(() => pubFrames(late, channel).length === 2, 10_000, 'late publications');
    const [first, second] = pubFrames(late, channel);
    expect(first.data).toEqual(value(N));
    expect(second.delta).toBeDefined();
    await until(() => seen.length === N + 2, 10_000, 'the SDK keeps up');
    expect(seen.at(-1)!.data).toEqual(value(N + 1));

    for (const p of [full, delta, late]) p.close();
    client.disconnect();
  });
});

describe('a delta subscriber that recovers', () => {
  it('gets the missed publications in full, then deltas it can apply', async () => {
    const channel = 'meeting:recover';
    const seen: unknown[] = [];
    const client = createClient({ url: t.wsUrl, getToken: () => t.token('sdk-recover'), minReconnectDelay: 10, maxReconnectDelay: 50 });
    const sub = client.subscribe(channel, { delta: true, onPublication: (p) => seen.push(p.data) });
    client.connect();
    await sub.ready(10_000);
    for (let i = 0; i < 5; i++) await t.publish(channel, transcript(i + 1));
    await until(() => seen.length === 5, 10_000, 'first publications');
    sub.unsubscribe();
    for (let i = 5; i < 8; i++) await t.publish(channel, transcript(i + 1));
    sub.subscribe();
    await sub.ready(10_000);
    for (let i = 8; i < 12; i++) await t.publish(channel, transcript(i + 1));
    await until(() => seen.length === 12, 10_000, 'every publication');
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => transcript(i + 1)));
    client.disconnect();
  });
});
