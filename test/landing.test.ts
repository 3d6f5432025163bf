/**
 * GET /: the page a person sees when they open the gateway's address: what
 * this is, the node's status, endpoints, links. Checked as HTML and looked at
 * in a real Chromium (screenshot in test-results/landing.png); under CI=true a
 * missing Chromium fails.
 */
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway, MemoryEngine, makeConfig } from '@tidings/server';
import { API_KEY, SECRET, type TestGateway, startTestGateway } from './helpers.js';
import { launchChromium, skipWithoutChromium } from './browser-helpers.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({
    landing: {
      links: [
        { label: 'Admin', href: '/admin', note: 'operators only' },
        { label: '<script>x</script>', href: '/x?a=1&b="2"', note: '<i>note</i>' },
      ],
      devNotice: true, docsUrl: 'https://docs.example.com/tidings' },
  });
});
afterAll(() => t.close());

/** GET with node:http, which (unlike fetch) sends the Host header it is given. */
function rawGet(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** The status line of the page: what only the node's state decides (the links always include one labelled "Ready"). */
function status(html: string): { title: string | undefined; status: string | undefined; down: boolean } {
  const div = /<div class="status( down)?"><span class="dot"><\/span>([^<]*)<\/div>/.exec(html);
  return { title: /<title>([^<]*)<\/title>/.exec(html)?.[1], status: div?.[2], down: Boolean(div?.[1]) };
}

describe('GET /', () => {
  it('serves an HTML page with the status, the endpoints and the links', async () => {
    const res = await fetch(`${t.httpUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain('<h1>Tidings</h1>');
    expect(status(html)).toEqual({ title: 'Tidings gateway · Ready', status: 'Ready', down: false });
    expect(html).toContain(t.gw.id);
    expect(html).toContain(`ws://127.0.0.1:${t.port}/ws`);
    expect(html).toContain('href="/admin"');
    expect(html).toContain('href="https://docs.example.com/tidings"');
    expect(html).toContain('npx tidings dev-secrets api-key');
    expect(html).not.toContain('<script');
  });

  it('does not show a Host header it cannot trust, escaped or not', async () => {
    const { status: code, body } = await rawGet(t.port, '/', { host: '<b>evil</b>' });
    expect(code).toBe(200);
    expect(body).not.toContain('<b>evil</b>');
    expect(body).not.toContain('evil');
    expect(body).toContain(`ws://127.0.0.1:${t.port}/ws`);
  });

  it('shows a plain Host header as given, in the endpoint URLs', async () => {
    const { body } = await rawGet(t.port, '/', { host: `gateway.example.com:${t.port}` });
    expect(body).toContain(`ws://gateway.example.com:${t.port}/ws`);
  });

  it('escapes the configured links', async () => {
    const html = await (await fetch(`${t.httpUrl}/`)).text();
    expect(html).not.toContain('<script>x</script>');
    expect(html).not.toContain('<i>note</i>');
    expect(html).toContain('<a href="/x?a=1&amp;b=&quot;2&quot;">&lt;script&gt;x&lt;/script&gt;</a>');
    expect(html).toContain('&lt;i&gt;note&lt;/i&gt;');
  });

  it('other paths still answer a JSON 404', async () => {
    const res = await fetch(`${t.httpUrl}/nope`);
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe(104);
  });

  it('says "Not ready" when the engine is not ready, and while the node drains', async () => {
    const engine = new MemoryEngine();
    const gw = new Gateway({ engine, config: makeConfig({ host: '127.0.0.1', port: 0, apiKey: API_KEY, token: { hmacSecret: SECRET }, log: { level: 'silent' } }) });
    const port = await gw.listen();
    let ready = false;
    engine.ready = () => ready;
    try {
      const down = status(await (await fetch(`http://127.0.0.1:${port}/`)).text());
      expect(down).toEqual({ title: 'Tidings gateway · Not ready: the node is draining', status: 'Not ready: the node is draining', down: true });
      expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(503);

      ready = true;
      expect(status(await (await fetch(`http://127.0.0.1:${port}/`)).text())).toMatchObject({ status: 'Ready', down: false });

      // Draining: the engine still answers, the node no longer accepts clients. (close() also
      // stops the listener at once, so set the flag it sets to look at the page meanwhile.)
      (gw as unknown as { ctx: { accepting: boolean } }).ctx.accepting = false;
      expect(status(await (await fetch(`http://127.0.0.1:${port}/`)).text())).toMatchObject({ status: 'Not ready: the node is draining', down: true });
    } finally {
      await gw.close();
    }
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
