/**
 * The built dashboard (packages/admin/dist), found at run time: the server
 * package never imports it. In this repository and in an npm install alike
 * it sits next to the server package (`@tidings/admin` beside
 * `@tidings/server`); `admin.assetsDir` overrides that.
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/**
 * dist/admin/assets.js → packages/server → packages/admin/dist. Resolved on
 * first use, not at import: under a bundler or a DOM test environment this
 * module's URL may not be a file URL, and importing the gateway must not fail.
 */
function defaultDir(): string {
  const url = new URL('../../../admin/dist', import.meta.url);
  return url.protocol === 'file:' ? fileURLToPath(url) : resolve('node_modules/@tidings/admin/dist');
}

export interface Asset {
  body: Buffer;
  type: string;
}

export class DashboardAssets {
  private resolved?: string;

  constructor(private readonly configured?: string) {}

  get dir(): string {
    this.resolved ??= resolve(this.configured ?? defaultDir());
    return this.resolved;
  }

  index(): Asset | undefined {
    return read(join(this.dir, 'index.html'));
  }

  /** A file under the folder's assets/, or undefined (missing, or a path that climbs out of it). */
  asset(relative: string): Asset | undefined {
    const root = join(this.dir, 'assets');
    const path = normalize(join(root, relative));
    return path.startsWith(root + sep) ? read(path) : undefined;
  }
}

function read(path: string): Asset | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return { body: readFileSync(path), type: TYPES[extname(path)] ?? 'application/octet-stream' };
  } catch {
    return undefined;
  }
}
