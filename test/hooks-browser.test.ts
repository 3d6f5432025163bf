/**
 * A cookie session in real headless Chromium: the SDK's browser build, with
 * no token at all, from a page on another origin, over WebSocket and over
 * SSE (`withCredentials`). The browser sends the app's session cookie, the
 * connect hook names the user and joins its job channel, and a publication
 * on that channel reaches the page. A page whose cookie the backend does not
 * know ends in `failed` with 3505. Under CI=true a missing Chromium fails.
 */
import type { Server } from 'node:http';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '@tidings/protocol';
import { CHROMIUM, chromiumAvailable, launchChromium, serveStatic, skipWithoutChromium } from './browser-helpers.js';
import { HOOK_SECRET, startHookBackend } from './hook-backend.js';
import { type TestGateway, startTestGateway } from './helpers.js';

const PAGE = `<!doctype html><meta charset="utf-8"><title>tidings cookie session test</title>
<script type="importmap">{"imports": {"@tidings/protocol": "/protocol/index.js"}}</script>
<script type="module">
  import { createClient } from '/client/index.js';
  const q = new URLSearchParams(location.search);
  const seen = (window.seen = { connected: [], received: [], failed: [] });
  // No token and no getToken: the gateway's connect hook reads the session cookie.
  const client = createClient({ url: q.get('ws'), transports: [q.get('transport')], withCredentials: true, minReconnectDelay: 50, maxReconnectDelay: 200 });
  client.on('connected', (c) => seen.connected.push({ user: c.user, transport: c.transport }));
  client.on('publication', (p) => seen.received.push({ channel: p.channel, data: p.data }));
  client.on('failed', (e) => seen.failed.push(e.code));
  client.on('error', () => {});
  client.connect();
</script>`;

describe.skipIf(skipWithoutChromium)('cookie sessions through the connect hook, in headless Chromium', () => {
  let t: TestGateway;
  let browser: Browser;
  let web: { server: Server; origin: string };
  let backend: Awaited<ReturnType<typeof startHookBackend>>;
  const errors: string[] = [];

  beforeAll(async () => {
    expect(chromiumAvailable, `${CHROMIUM} is required (apt-get install chromium)`).toBe(true);
    backend = await startHookBackend((call) => {
      if (call.body.cookies.session !== 'sess-alice') return { error: { message: 'not signed in' } };
      return { result: { user: 'alice', channels: ['jobs:42'] } };
    });
    web = await serveStatic(PAGE);
    t = await startTestGateway({
      client: { allowedOrigins: [web.origin] },
      namespaces: { jobs: {} },
      hooks: { secret: HOOK_SECRET, forwardCookies: ['session'], connect: { url: `${backend.url}/connect`, retries: 0 } },
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await backend?.close();
    web?.server.close();
  });

  /** A browser context holding `cookie` for 127.0.0.1 (every port: cookies are per host), with the page open. */
  async function pageWith(cookie: string, transport: 'websocket' | 'sse'): Promise<{ context: BrowserContext; seen: () => Promise<any> }> {
    const context = await browser.newContext();
    await context.addCookies([{ name: 'session', value: cookie, domain: '127.0.0.1', path: '/' }]);
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${web.origin}/?${new URLSearchParams({ ws: t.wsUrl, transport })}`);
    return { context, seen: () => page.evaluate(() => (window as any).seen) };
  }

  for (const transport of ['websocket', 'sse'] as const) {
    it(`connects with the session cookie over ${transport} and receives on the joined channel`, async () => {
      const { context, seen } = await pageWith('sess-alice', transport);
      const page = context.pages()[0]!;
      await page.waitForFunction(() => (window as any).seen.connected.length === 1, null, { timeout: 15_000 });
      expect((await seen()).connected).toEqual([{ user: 'alice', transport }]);
      await t.publish('jobs:42', { stage: transport });
      await page.waitForFunction((s) => (window as any).seen.received.some((r: any) => r.data.stage === s), transport, { timeout: 10_000 });
      expect(backend.calls.at(-1)!.body).toMatchObject({ transport, cookies: { session: 'sess-alice' } });
      expect(errors).toEqual([]);
      await context.close();
    });
  }

  it('a cookie the backend does not know ends in failed with 3505', async () => {
    const { context, seen } = await pageWith('forged', 'websocket');
    const page = context.pages()[0]!;
    await page.waitForFunction(() => (window as any).seen.failed.length === 1, null, { timeout: 15_000 });
    expect((await seen()).failed).toEqual([CloseCode.ConnectRefused]);
    expect((await seen()).connected).toEqual([]);
    await context.close();
  });
});
