/**
 * One showcase (gateway process, backend, Python worker) and one Chromium for
 * the whole showcase test file; helpers to sign in, watch the connection
 * pill, record HTTP requests and WebSocket frames, and take screenshots.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { type Showcase, startShowcase } from '../../examples/showcase/server/showcase.js';
import { chromiumAvailable, launchChromium } from '../browser-helpers.js';
import { freePort } from '../helpers.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const IMG_DIR = join(ROOT, 'docs/img');

export function pythonAvailable(): boolean {
  try {
    execFileSync('python3', ['-c', 'import sqlite3, urllib.request'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Skip only outside CI: under CI=true a missing Chromium or Python fails. */
export const skipShowcase = (!chromiumAvailable || !pythonAvailable()) && process.env.CI !== 'true';

export interface Harness {
  app: Showcase;
  browser: Browser;
  dataDir: string;
  close(): Promise<void>;
}

/** Build the front end (Vite, a second or two), start everything on free ports. */
export async function startHarness(): Promise<Harness> {
  await build({ configFile: join(ROOT, 'examples/showcase/web/vite.config.ts'), logLevel: 'error' });
  const dataDir = mkdtempSync(join(tmpdir(), 'showcase-test-'));
  const app = await startShowcase({ gatewayPort: await freePort(), dataDir, stepMs: 250 });
  const browser = await launchChromium();
  return {
    app,
    browser,
    dataDir,
    async close() {
      await browser.close();
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A tab with its own log of HTTP requests and WebSocket frames. */
export interface Tab {
  page: Page;
  requests: Array<{ method: string; url: string; at: number }>;
  framesIn: string[];
  /** WebSockets the page opened. */
  sockets: number;
  errors: string[];
}

export async function openTab(context: BrowserContext, url: string): Promise<Tab> {
  const page = await context.newPage();
  const tab: Tab = { page, requests: [], framesIn: [], sockets: 0, errors: [] };
  page.on('request', (r) => tab.requests.push({ method: r.method(), url: r.url(), at: Date.now() }));
  page.on('websocket', (ws) => {
    tab.sockets++;
    ws.on('framereceived', (f) => tab.framesIn.push(typeof f.payload === 'string' ? f.payload : f.payload.toString('utf8')));
  });
  page.on('pageerror', (e) => tab.errors.push(e.message));
  await page.goto(url);
  return tab;
}

/** A new browser context (its own storage: one "person"), signed in as `user`, on `route`. */
export async function signedIn(h: Harness, user: string, route: string, context?: BrowserContext, shot?: string): Promise<Tab> {
  const ctx = context ?? (await h.browser.newContext({ viewport: { width: 1280, height: 820 } }));
  const tab = await openTab(ctx, `${h.app.url}/#/${route}`);
  await tab.page.waitForSelector('input[name=user]');
  if (shot) await screenshot(tab, shot);
  await tab.page.fill('input[name=user]', user);
  await tab.page.click('button:has-text("Sign in")');
  await waitLive(tab);
  return tab;
}

export function connectionState(tab: Tab): Promise<string | null> {
  return tab.page.getAttribute('[data-testid=connection]', 'data-state');
}

export async function waitState(tab: Tab, state: string, timeout = 15_000): Promise<void> {
  await tab.page.waitForSelector(`[data-testid=connection][data-state=${state}]`, { timeout });
}

export const waitLive = (tab: Tab, timeout?: number) => waitState(tab, 'connected', timeout);

/**
 * Kill the gateway (SIGKILL: a crash, no goodbye), check every tab shows
 * "reconnecting", start it again and wait until every tab is live.
 */
export async function crashAndRestartGateway(h: Harness, tabs: Tab[]): Promise<void> {
  await h.app.gateway.stop('SIGKILL');
  for (const t of tabs) await waitState(t, 'reconnecting');
  await h.app.gateway.start();
  for (const t of tabs) await waitLive(t, 20_000);
}

/** HTTP requests of a tab made at or after `since` (WebSocket frames are not requests). */
export function requestsSince(tab: Tab, since: number): string[] {
  return tab.requests.filter((r) => r.at >= since).map((r) => `${r.method} ${new URL(r.url).pathname}`);
}

/** Requests that happened more than once: polling would show up here. */
export function repeated(list: string[]): string[] {
  const counts = new Map<string, number>();
  for (const r of list) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].filter(([, n]) => n > 1).map(([r, n]) => `${r} x${n}`);
}

/** Whether this run refreshes the tracked screenshots in docs/img (`UPDATE_SCREENSHOTS=1`). */
export const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';
let shotDir: string | undefined;

/**
 * Where screenshots go: docs/img under UPDATE_SCREENSHOTS=1, otherwise a temp
 * directory of this run (kept, and printed once, so a failure can be looked at).
 */
export function screenshotDir(): string {
  if (UPDATE_SCREENSHOTS) return IMG_DIR;
  if (!shotDir) {
    shotDir = mkdtempSync(join(tmpdir(), 'showcase-screenshots-'));
    console.log(`showcase screenshots: ${shotDir} (UPDATE_SCREENSHOTS=1 writes docs/img)`);
  }
  return shotDir;
}

export async function screenshot(tab: Tab, name: string, opts: { fullPage?: boolean } = {}): Promise<void> {
  await tab.page.screenshot({ path: join(screenshotDir(), `showcase-${name}.png`), animations: 'disabled', fullPage: opts.fullPage ?? false });
}
