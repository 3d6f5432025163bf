/**
 * GET /: the page a person sees when they open the gateway's address: what
 * this is, the node's status, endpoints, links. Checked as HTML and looked at
 * in a real Chromium (screenshot in test-results/landing.png); under CI=true a
 * missing Chromium fails.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestGateway, startTestGateway } from './helpers.js';
import { launchChromium, skipWithoutChromium } from './browser-helpers.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({
    landing: { links: [{ label: 'Admin', href: '/admin', note: 'operators only' }], devNotice: true, docsUrl: 'https://docs.example.com/tidings' },
  });
});
afterAll(() => t.close());

describe('GET /', () => {
  it('serves an HTML page with the status, the endpoints and the links', async () => {
    const res = await fetch(`${t.httpUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain('<h1>Tidings</h1>');
    expect(html).toContain('Ready');
    expect(html).toContain(t.gw.id);
    expect(html).toContain(`ws://127.0.0.1:${t.port}/ws`);
    expect(html).toContain('href="/admin"');
    expect(html).toContain('href="https://docs.example.com/tidings"');
    expect(html).toContain('npx tidings dev-secrets api-key');
    expect(html).not.toContain('<script');
  });

  it('escapes what it shows from the request', async () => {
    const res = await fetch(`${t.httpUrl}/`, { headers: { host: '<b>evil</b>' } });
    const html = await res.text();
    expect(html).not.toContain('<b>evil</b>');
    expect(html).toContain(`127.0.0.1:${t.port}`);
  });

  it('other paths still answer a JSON 404', async () => {
    const res = await fetch(`${t.httpUrl}/nope`);
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe(104);
  });

  it.skipIf(skipWithoutChromium)('looks like a product in Chromium', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1000, height: 1100 } });
      await page.goto(`${t.httpUrl}/`);
      expect(await page.title()).toBe('Tidings gateway · Ready');
      expect(await page.locator('section[aria-label=status] .status').innerText()).toBe('Ready');
      const dir = resolve(import.meta.dirname, '../test-results');
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: join(dir, 'landing.png'), fullPage: true });
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.screenshot({ path: join(dir, 'landing-dark.png'), fullPage: true });
      // Narrow screens: nothing wider than the viewport.
      await page.setViewportSize({ width: 380, height: 900 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await page.screenshot({ path: join(dir, 'landing-narrow.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  }, 60_000);
});
