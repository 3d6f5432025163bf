/**
 * Shared by the Chromium tests: the page server (the client's browser build
 * served as plain ES modules, no bundler, so any Node-only import would fail
 * to load) and the browser launch. Under CI=true a missing Chromium fails.
 */
import { existsSync, readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const chromiumAvailable = existsSync(CHROMIUM);
/** Skip only outside CI; in CI a missing Chromium must fail. */
export const skipWithoutChromium = !chromiumAvailable && process.env.CI !== 'true';

const ROOT = resolve(import.meta.dirname, '..');
const MOUNTS: Record<string, string> = {
  '/client/': join(ROOT, 'packages/client/dist/'),
  '/protocol/': join(ROOT, 'packages/protocol/dist/'),
};

/** Serve `page` at `/` and the built client and protocol packages beside it, on 127.0.0.1. */
export function serveStatic(page: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end(page);
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

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
