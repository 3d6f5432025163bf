/**
 * The client's browser build in real headless Chromium: loaded as plain ES
 * modules (no bundler, so any Node-only import would fail to load), it
 * connects with the browser's own WebSocket, receives, and recovers after the
 * server cuts the connection. Under CI=true a missing Chromium fails the test.
 */
import type { Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CHROMIUM, chromiumAvailable, launchChromium, serveStatic, skipWithoutChromium } from './browser-helpers.js';
import { type TestGateway, startTestGateway } from './helpers.js';

const PAGE = `<!doctype html><meta charset="utf-8"><title>tidings browser test</title>
<script type="importmap">{"imports": {"@tidings/protocol": "/protocol/index.js"}}</script>
<script type="module">
  import { createClient } from '/client/index.js';
  const params = new URLSearchParams(location.search);
  window.received = [];
  window.subscribed = [];
  const client = createClient({ url: params.get('ws'), token: params.get('token'), minReconnectDelay: 50, maxReconnectDelay: 200 });
  client.subscribe('news', {
    onPublication: (p) => window.received.push(p.data.i),
    onSubscribed: (ctx) => window.subscribed.push({ recovered: ctx.recovered, wasRecovering: ctx.wasRecovering }),
  });
  client.connect();
  window.client = client;
</script>`;

describe.skipIf(skipWithoutChromium)('browser client (headless Chromium)', () => {
  let t: TestGateway;
  let browser: Browser;
  let web: { server: Server; origin: string };

  beforeAll(async () => {
    expect(chromiumAvailable, `${CHROMIUM} is required (apt-get install chromium)`).toBe(true);
    web = await serveStatic(PAGE);
    t = await startTestGateway({ client: { allowedOrigins: [web.origin] } });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    web?.server.close();
  });

  it('receives, then recovers what it missed after the server cut it', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const token = await t.token('browser-user');
    await page.goto(`${web.origin}/?ws=${encodeURIComponent(t.wsUrl)}&token=${token}`);
    await page.waitForFunction(() => (window as any).subscribed.length === 1, null, { timeout: 10_000 });
    for (let i = 0; i < 10; i++) await t.publish('news', { i });
    await page.waitForFunction(() => (window as any).received.length === 10, null, { timeout: 10_000 });

    for (const s of t.gw.sessions()) if (s.user === 'browser-user') s.transport.abort();
    for (let i = 10; i < 30; i++) await t.publish('news', { i });
    await page.waitForFunction(() => (window as any).received.length >= 30, null, { timeout: 10_000 });
    const received = await page.evaluate(() => (window as any).received);
    expect(received).toEqual(Array.from({ length: 30 }, (_, i) => i));
    const subscribed = await page.evaluate(() => (window as any).subscribed);
    expect(subscribed.at(-1)).toEqual({ recovered: true, wasRecovering: true });
    expect(errors).toEqual([]);
  });

  it('refuses a WebSocket from an origin that is not allowed (403)', async () => {
    const ws = new WebSocket(t.wsUrl, { origin: 'http://evil.example' });
    const status = await new Promise<number>((r) => {
      ws.on('unexpected-response', (_req, res) => r(res.statusCode ?? 0));
      ws.on('error', () => r(-1));
    });
    expect(status).toBe(403);
  });
});
