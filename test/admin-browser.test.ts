/**
 * The admin dashboard in headless Chromium against a real gateway: the login
 * form (wrong secret, then the right one), live numbers that change when a
 * test publishes (through the dashboard's own Tidings connection: no HTTP
 * request repeats while they do), a channel's presence and history, a test
 * publication that reaches a subscriber, a user disconnected, sign out.
 * Screenshots go to a temp folder, or to docs/img with UPDATE_SCREENSHOTS=1.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, chromiumAvailable, launchChromium, skipWithoutChromium } from './browser-helpers.js';
import { type RawPeer, type TestGateway, connectedPeer, freePort, startTestGateway } from './helpers.js';

const ADMIN_SECRET = 'admin-secret-browser-0123456789';
const ROOT = resolve(import.meta.dirname, '..');
const DIST = join(ROOT, 'packages/admin/dist/index.html');
/** Chart points before the dashboard's screenshot: a few in a normal run, half a minute for the docs. */
const CHART_POINTS = process.env.UPDATE_SCREENSHOTS === '1' ? 30 : 6;
const SHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs/img') : mkdtempSync(join(tmpdir(), 'admin-screenshots-'));

async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `admin-${name}.png`), animations: 'disabled', fullPage });
}

describe.skipIf(skipWithoutChromium)('admin dashboard (headless Chromium)', () => {
  let t: TestGateway;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  const requests: Array<{ at: number; what: string }> = [];
  let alice: RawPeer;
  let stop = false;
  let publisher: Promise<void> | undefined;

  beforeAll(async () => {
    expect(chromiumAvailable, `${CHROMIUM} is required (apt-get install chromium)`).toBe(true);
    expect(existsSync(DIST), 'the dashboard is built (npm run build)').toBe(true);
    t = await startTestGateway({
      admin: { secret: ADMIN_SECRET, statsInterval: '500ms' },
      namespaces: { room: { presence: true, publish: 'subscribers' }, feed: {} },
    });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1440, height: 960 }, deviceScaleFactor: 1 });
    page = await context.newPage();
    page.on('pageerror', (err) => errors.push(String(err)));
    page.on('console', (msg) => msg.type() === 'error' && errors.push(msg.text()));
    page.on('request', (r) => requests.push({ at: Date.now(), what: `${r.method()} ${new URL(r.url()).pathname}` }));
    console.log(`admin screenshots: ${SHOTS}`);
  }, 60_000);

  afterAll(async () => {
    stop = true;
    await publisher;
    await browser?.close();
    await t?.close();
  });

  it('signs in: the form refuses a wrong secret, then opens the dashboard, live', async () => {
    await page.goto(`${t.httpUrl}/admin`);
    await page.waitForSelector('form[action="/admin/login"]');
    await shot(page, 'login');
    await page.fill('#secret', 'not-the-secret-0000000000000');
    await page.click('button[type=submit]');
    await page.waitForSelector('.error:has-text("Wrong secret")');
    // The wrong secret's 401 is the one failed load the browser may log; nothing fails from here on.
    errors.length = 0;
    await page.fill('#secret', ADMIN_SECRET);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=connection][data-state=connected]', { timeout: 15_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid=value-nodes]')?.textContent === '1', undefined, { timeout: 15_000 });
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'tidings_admin')).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/admin' });
    await page.waitForSelector('[data-testid=node-row]');
    expect(await page.textContent('[data-testid=node-row]')).toContain(`127.0.0.1:${t.port}`);
  });

  it('shows live numbers that change when a test publishes, with no polling', { timeout: 90_000 }, async () => {
    alice = await connectedPeer(t, 'alice');
    await alice.call('subscribe', { channel: 'room:lobby' });
    const bob = await connectedPeer(t, 'bob');
    await bob.call('subscribe', { channel: 'room:lobby' });
    await bob.call('subscribe', { channel: 'feed:prices' });
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=value-connections]')?.textContent) >= 3, undefined, { timeout: 15_000 });
    const since = Date.now();
    // A steady trickle for the chart, bounded in count and time.
    publisher = (async () => {
      for (let i = 0; i < 4000 && !stop; i++) {
        await t.publish(i % 3 === 0 ? 'feed:prices' : 'room:lobby', { n: i, text: `message ${i}` });
        // A rate that rises and falls, so the chart has a shape.
        await new Promise((r) => setTimeout(r, 8 + 20 * (1 + Math.sin(i / 60))));
      }
    })();
    await page.waitForFunction(() => Array.from(document.querySelectorAll('[data-testid=top-channel]')).some((r) => r.textContent?.includes('room:lobby')), undefined, {
      timeout: 20_000,
    });
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=value-in]')?.textContent?.replace('/s', '')) > 0, undefined, { timeout: 20_000 });
    await page.waitForFunction((points) => document.querySelectorAll('.line-in').length === 1 && (document.querySelector('.line-in')?.getAttribute('d')?.split('L').length ?? 0) >= points, CHART_POINTS, {
      timeout: 60_000,
    });
    const during = requests.filter((r) => r.at >= since).map((r) => r.what);
    expect(during, 'live numbers come over the WebSocket, not HTTP').toEqual([]);
    await shot(page, 'dashboard');
  });

  it("shows a channel's presence and recent history", async () => {
    await page.fill('[data-testid=channel-input]', 'room:lobby');
    await page.click('[data-testid=inspector] button[type=submit]');
    await page.waitForSelector('[data-testid=channel-view]');
    const presence = await page.textContent('[data-testid=presence]');
    expect(presence).toContain('alice');
    expect(presence).toContain('bob');
    expect(await page.locator('[data-testid=history-row]').count()).toBeGreaterThan(0);
    expect(await page.textContent('[data-testid=history]')).toContain('message');
    await page.locator('[data-testid=inspector]').scrollIntoViewIfNeeded();
    await page.locator('[data-testid=channel-view]').scrollIntoViewIfNeeded();
    await shot(page, 'channel');
  });

  it('publishes a test message that a subscriber receives', async () => {
    await page.fill('[data-testid=publish-channel]', 'room:lobby');
    await page.fill('[data-testid=publish-data]', '{"text":"hello from the admin page"}');
    await page.click('[data-testid=publish-form] button[type=submit]');
    await page.waitForSelector('[data-testid=publish-result]:has-text("Published to room:lobby at offset")');
    const got = await alice.waitFor((f) => f.type === 'pub' && f.data?.text === 'hello from the admin page');
    expect(got.channel).toBe('room:lobby');
    // The channel view shown reloads, with the test message among the latest.
    await page.waitForSelector('[data-testid=history-row]:has-text("hello from the admin page")', { timeout: 15_000 });
  });

  it('disconnects a user', async () => {
    await page.fill('[data-testid=disconnect-user]', 'alice');
    await page.click('[data-testid=disconnect-form] button[type=submit]');
    expect((await alice.closed).code).toBe(3503);
    await page.waitForSelector('[data-testid=disconnect-result]:has-text("Disconnected every connection of alice")');
    // The channel view reloads after an action: alice has left room:lobby's presence.
    await page.waitForFunction(() => {
      const list = document.querySelector('[data-testid=presence]')?.textContent ?? '';
      return list.includes('bob') && !list.includes('alice');
    }, undefined, { timeout: 15_000 });
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=value-connections]')?.textContent) === 2, undefined, { timeout: 15_000 });
    await shot(page, 'actions');
  });

  it('signs out, back to the login form, with no request refused on the way', async () => {
    // An action just before: the channel view has a reload on its way (held back 300 ms here, as a
    // slow network would) and another one scheduled for 500 ms later. The page after the sign-out is
    // held back 1.5 s, so the old page is still there when both would run: neither may reach the
    // server once the session is revoked.
    const later = (ms: number) => async (route: Route) => {
      await new Promise((done) => setTimeout(done, ms));
      await route.continue();
    };
    const channelRequests: number[] = [];
    await page.route('**/admin/api/channel', (route) => {
      channelRequests.push(Date.now());
      return later(300)(route);
    });
    await page.route('**/admin', later(1500));
    await page.fill('[data-testid=disconnect-user]', 'nobody');
    await page.click('[data-testid=disconnect-form] button[type=submit]');
    await page.waitForSelector('[data-testid=disconnect-result]:has-text("nobody")');
    const signedOutAt = Date.now();
    await page.click('[data-testid=sign-out]');
    await page.waitForSelector('form[action="/admin/login"]');
    // The reload due after the sign-out never became a request: the page refused it itself.
    expect(channelRequests.length).toBeGreaterThan(0);
    expect(channelRequests.filter((at) => at > signedOutAt)).toEqual([]);
    expect((await page.context().cookies()).find((c) => c.name === 'tidings_admin')).toBeUndefined();
    expect(errors, errors.join("\n")).toEqual([]);
  });
});

describe.skipIf(skipWithoutChromium)('admin dashboard across a gateway restart (headless Chromium)', () => {
  it('shows reconnecting while the gateway is down, then live again on the same login (the cookie is signed, not stored)', async () => {
    const port = await freePort();
    const config = { admin: { secret: ADMIN_SECRET, statsInterval: '500ms' } };
    let t = await startTestGateway(config, port);
    const browser = await launchChromium();
    try {
      const page = await (await browser.newContext({ viewport: { width: 1440, height: 960 } })).newPage();
      await page.goto(`${t.httpUrl}/admin`);
      await page.fill('#secret', ADMIN_SECRET);
      await page.click('button[type=submit]');
      await page.waitForSelector('[data-testid=connection][data-state=connected]', { timeout: 15_000 });
      await page.waitForSelector('[data-testid=node-row]');
      const before = await page.getAttribute('[data-testid=node-row]', 'data-node');
      await t.close();
      await page.waitForSelector('[data-testid=connection][data-state=reconnecting]', { timeout: 15_000 });
      await page.waitForSelector('.banner-warning');
      await shot(page, 'reconnecting');
      t = await startTestGateway(config, port);
      await page.waitForSelector('[data-testid=connection][data-state=connected]', { timeout: 30_000 });
      await page.waitForSelector(`[data-testid=node-row][data-node="${t.gw.id}"] .status-up`, { timeout: 15_000 });
      expect(t.gw.id).not.toBe(before);
    } finally {
      await browser.close();
      await t.close();
    }
  });
});

describe.skipIf(skipWithoutChromium)('admin dashboard: empty and ended states (headless Chromium)', () => {
  let t: TestGateway;
  let browser: Browser;
  beforeAll(async () => {
    // Stats far apart: the page stays in its waiting state.
    t = await startTestGateway({ admin: { secret: ADMIN_SECRET, statsInterval: '1h' } });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function signedIn(): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1440, height: 960 } })).newPage();
    await page.goto(`${t.httpUrl}/admin`);
    await page.fill('#secret', ADMIN_SECRET);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=connection][data-state=connected]', { timeout: 15_000 });
    return page;
  }

  it('says it is waiting for numbers, and lists the registry\'s node as not reporting', async () => {
    const page = await signedIn();
    await page.waitForSelector('[data-testid=chart] .empty:has-text("Waiting for the first numbers")');
    await page.waitForSelector('[data-testid=node-row] .status-stale');
    expect(await page.textContent('[data-testid=value-connections]')).toBe('–');
    await shot(page, 'waiting');
  });

  it('a session ended elsewhere: the next reconnect cannot get a token, and the page says to sign in again', async () => {
    const page = await signedIn();
    const cookie = (await page.context().cookies()).find((c) => c.name === 'tidings_admin')!;
    const origin = t.httpUrl;
    const as = async (value: string, path: string, body: unknown = {}) => {
      const session = (await (await fetch(`${origin}/admin/api/session`, { headers: { cookie: `tidings_admin=${value}` } })).json()) as { csrf: string };
      const r = await fetch(origin + path, {
        method: 'POST',
        headers: { cookie: `tidings_admin=${value}`, origin, 'x-tidings-csrf': session.csrf, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(r.status).toBe(200);
    };
    // Another operator's session ends this one, then makes every dashboard reconnect.
    const other = await fetch(`${origin}/admin/login`, { method: 'POST', redirect: 'manual', headers: { origin, 'content-type': 'application/x-www-form-urlencoded' }, body: `secret=${ADMIN_SECRET}` });
    const otherValue = (other.headers.get('set-cookie') ?? '').split(';')[0]!.split('=')[1]!;
    await as(cookie.value, '/admin/logout');
    await as(otherValue, '/admin/api/disconnect', { user: '_admin', reconnect: true });
    await page.waitForSelector('[data-testid=connection][data-state=failed]', { timeout: 20_000 });
    await page.waitForSelector('[data-testid=failed] a[href="/admin"]');
    // Nothing is coming any more: the live panels must not say they are waiting for numbers.
    await page.waitForFunction(() => (document.querySelector('[data-testid=chart]')?.textContent ?? '').includes('No live numbers'));
    expect(await page.textContent('[data-testid=top-channels]')).not.toContain('Waiting');
    await shot(page, 'session-ended');
  });
});
