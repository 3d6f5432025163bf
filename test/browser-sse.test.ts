/**
 * SSE in real headless Chromium, from a page on another origin: the
 * browser's own EventSource against /sse (commands by fetch, and the
 * EventSource's own reconnect resuming by Last-Event-ID), and the SDK's
 * browser build with `transports: ['sse']` (native EventSource + fetch):
 * subscribe, RPC with chunks, recovery after the server cuts the stream.
 * Under CI=true a missing Chromium fails the test.
 */
import type { Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, chromiumAvailable, launchChromium, serveStatic, skipWithoutChromium } from './browser-helpers.js';
import { type TestGateway, startTestGateway } from './helpers.js';

const PAGE = `<!doctype html><meta charset="utf-8"><title>tidings sse browser test</title>
<script type="importmap">{"imports": {"@tidings/protocol": "/protocol/index.js"}}</script>
<script type="module">
  import { createClient } from '/client/index.js';
  const q = new URLSearchParams(location.search);
  const base = q.get('http');

  // The browser's own EventSource, no SDK.
  const raw = (window.raw = { frames: [] });
  const es = new EventSource(base + '/sse?connect=' + encodeURIComponent(JSON.stringify({ token: q.get('rawToken'), subs: [{ channel: 'braw' }] })));
  es.onmessage = (ev) => raw.frames.push({ frame: JSON.parse(ev.data), lastEventId: ev.lastEventId });
  window.rawPost = (frames) => {
    const session = raw.frames.filter((f) => f.frame.id === 1).at(-1).frame.result.session;
    return fetch(base + '/sse/command', { method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: JSON.stringify({ session, frames }) }).then((r) => r.status);
  };

  // The SDK on SSE.
  const sdk = (window.sdk = { received: [], subscribed: [] });
  const client = createClient({ url: q.get('ws'), token: q.get('sdkToken'), transports: ['sse'], minReconnectDelay: 50, maxReconnectDelay: 200 });
  client.subscribe('bsdk', {
    onPublication: (p) => sdk.received.push(p.data.i),
    onSubscribed: (ctx) => sdk.subscribed.push({ recovered: ctx.recovered, wasRecovering: ctx.wasRecovering }),
  });
  client.connect();
  window.client = client;
</script>`;

describe.skipIf(skipWithoutChromium)('SSE in headless Chromium', () => {
  let t: TestGateway;
  let browser: Browser;
  let web: { server: Server; origin: string };
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    expect(chromiumAvailable, `${CHROMIUM} is required (apt-get install chromium)`).toBe(true);
    web = await serveStatic(PAGE);
    t = await startTestGateway({ client: { allowedOrigins: [web.origin] }, sse: { retry: '100ms' } });
    t.gw.rpc('count', async function* (n) {
      for (let i = 0; i < (n as number); i++) yield i;
      return 'done';
    });
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    const q = new URLSearchParams({ http: t.httpUrl, ws: t.wsUrl, rawToken: await t.token('browser-raw'), sdkToken: await t.token('browser-sdk') });
    await page.goto(`${web.origin}/?${q}`);
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    web?.server.close();
  });

  it("the browser's own EventSource connects, takes commands by fetch, and resumes by Last-Event-ID", async () => {
    await page.waitForFunction(() => (window as any).raw.frames.some((f: any) => f.frame.id === 1), null, { timeout: 10_000 });
    expect(await page.evaluate(() => (window as any).rawPost([{ id: 2, method: 'subscribe', params: { channel: 'braw2' } }]))).toBe(202);
    await page.waitForFunction(() => (window as any).raw.frames.some((f: any) => f.frame.id === 2), null, { timeout: 10_000 });
    for (let i = 0; i < 5; i++) await t.publish('braw', { i });
    await t.publish('braw2', { i: 0 });
    const pubs = (ch: string) => `window.raw.frames.filter((f) => f.frame.type === 'pub' && f.frame.channel === '${ch}').length`;
    await page.waitForFunction(`${pubs('braw')} === 5 && ${pubs('braw2')} === 1`, null, { timeout: 10_000 });
    const lastId = JSON.parse(await page.evaluate(() => (window as any).raw.frames.at(-1).lastEventId));
    expect(lastId).toMatchObject({ braw: [5, expect.any(String)], braw2: [1, expect.any(String)] });

    for (const s of t.gw.sessions()) if (s.user === 'browser-raw') s.transport.abort();
    for (let i = 5; i < 10; i++) await t.publish('braw', { i });
    // The EventSource may come back before the last publications are made:
    // what the resume recovered plus what arrived live after it must be
    // 5..9, each once, in order.
    const afterResume = `(() => {
      const frames = window.raw.frames;
      const at = frames.findLastIndex((f) => f.frame.id === 1);
      if (at < 0 || frames.filter((f) => f.frame.id === 1).length < 2) return null;
      const sub = frames[at].frame.result.subs.find((r) => r.channel === 'braw');
      const live = frames.slice(at + 1).filter((f) => f.frame.type === 'pub' && f.frame.channel === 'braw').map((f) => f.frame.data.i);
      return { subs: frames[at].frame.result.subs, seen: sub.publications.map((p) => p.data.i).concat(live) };
    })()`;
    await page.waitForFunction(`(${afterResume})?.seen.length >= 5`, null, { timeout: 10_000 });
    const { subs: resumed, seen } = (await page.evaluate(afterResume)) as { subs: any[]; seen: number[] };
    expect(resumed.find((r: any) => r.channel === 'braw')).toMatchObject({ wasRecovering: true, recovered: true });
    expect(seen).toEqual([5, 6, 7, 8, 9]);
    expect(resumed.find((r: any) => r.channel === 'braw2')).toMatchObject({ wasRecovering: true, recovered: true, offset: 1 });
    expect(errors).toEqual([]);
  });

  it('the SDK runs on SSE in the browser: publications, RPC chunks, recovery after a cut', async () => {
    await page.waitForFunction(() => (window as any).sdk.subscribed.length === 1, null, { timeout: 10_000 });
    expect(await page.evaluate(() => (window as any).client.transport)).toBe('sse');
    for (let i = 0; i < 5; i++) await t.publish('bsdk', { i });
    await page.waitForFunction(() => (window as any).sdk.received.length === 5, null, { timeout: 10_000 });
    const rpc = await page.evaluate(async () => {
      const chunks: number[] = [];
      const res = await (window as any).client.rpc('count', 20, { onChunk: (c: number) => chunks.push(c) });
      return { data: res.data, chunks };
    });
    expect(rpc).toEqual({ data: 'done', chunks: Array.from({ length: 20 }, (_, i) => i) });

    for (const s of t.gw.sessions()) if (s.user === 'browser-sdk') s.transport.abort();
    for (let i = 5; i < 25; i++) await t.publish('bsdk', { i });
    await page.waitForFunction(() => (window as any).sdk.received.length >= 25, null, { timeout: 10_000 });
    expect(await page.evaluate(() => (window as any).sdk.received)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect((await page.evaluate(() => (window as any).sdk.subscribed)).at(-1)).toEqual({ recovered: true, wasRecovering: true });
    expect(errors).toEqual([]);
  });
});
