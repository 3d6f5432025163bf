/**
 * The client's browser build in real headless Chromium: loaded as plain ES
 * modules (no bundler, so any Node-only import would fail to load), it
 * connects with the browser's own WebSocket, receives, and recovers after the
 * server cuts the connection. Under CI=true a missing Chromium fails the test.
 */
import { existsSync, readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type TestGateway, startTestGateway } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const ROOT = resolve(import.meta.dirname, '..');
const MOUNTS: Record<string, string> = {
  '/client/': join(ROOT, 'packages/client/dist/'),
  '/protocol/': join(ROOT, 'packages/protocol/dist/'),
};

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

function serveStatic(): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end(PAGE);
    }
    const mount = Object.keys(MOUNTS).find((m) => path.startsWith(m));
    const file = mount ? normalize(join(MOUNTS[mount]!, path.slice(mount.length))) : '';
    if (!mount || !file.startsWith(MOUNTS[mount]!) || !existsSync(file)) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { 'content-type': extname(file) === '.js' ? 'text/javascript' : 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ server, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

describe.skipIf(!available && process.env.CI !== 'true')('browser client (headless Chromium)', () => {
  let t: TestGateway;
  let browser: Browser;
  let web: { server: Server; origin: string };

  beforeAll(async () => {
    expect(available, `${CHROMIUM} is required (apt-get install chromium)`).toBe(true);
    web = await serveStatic();
    t = await startTestGateway({ client: { allowedOrigins: [web.origin] } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
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
