/** A small router over node:http: JSON bodies, JSON errors, static files for the built front end. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize } from 'node:path';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Request {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  body(): Promise<unknown>;
  raw(maxBytes: number): Promise<Buffer>;
}

type Handler = (r: Request) => Promise<unknown> | unknown;

const MAX_JSON_BYTES = 64 * 1024;

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        reject(new HttpError(413, `body larger than ${maxBytes} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(text);
}

export class Router {
  private readonly routes: Array<{ method: string; pattern: RegExp; keys: string[]; handler: Handler }> = [];

  on(method: string, path: string, handler: Handler): this {
    const keys: string[] = [];
    const pattern = new RegExp(`^${path.replace(/:(\w+)/g, (_m, k: string) => (keys.push(k), '([^/]+)'))}$`);
    this.routes.push({ method, pattern, keys, handler });
    return this;
  }

  /** True when a route matched (and answered). */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = (req.url ?? '/').split('?')[0]!;
    for (const route of this.routes) {
      const m = route.method === req.method ? route.pattern.exec(path) : null;
      if (!m) continue;
      const params = Object.fromEntries(route.keys.map((k, i) => [k, decodeURIComponent(m[i + 1]!)]));
      const request: Request = {
        req,
        res,
        params,
        raw: (max) => readBody(req, max),
        async body() {
          const buf = await readBody(req, MAX_JSON_BYTES);
          try {
            return buf.length ? JSON.parse(buf.toString('utf8')) : {};
          } catch {
            throw new HttpError(400, 'body is not valid JSON');
          }
        },
      };
      try {
        const out = await route.handler(request);
        if (!res.headersSent) sendJson(res, 200, out ?? {});
      } catch (err) {
        if (res.headersSent) {
          res.destroy();
          return true;
        }
        if (err instanceof HttpError) sendJson(res, err.status, { error: err.message });
        else {
          console.error('showcase: request failed', err);
          sendJson(res, 500, { error: 'internal error' });
        }
      }
      return true;
    }
    return false;
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wav': 'audio/wav',
  '.ico': 'image/x-icon',
};

/** Serve the Vite build; unknown paths get index.html (the app routes on the hash). */
export function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): void {
  const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
  let file = normalize(join(root, path));
  if (!file.startsWith(root) || !existsSync(file) || statSync(file).isDirectory()) file = join(root, 'index.html');
  if (!existsSync(file)) {
    res.writeHead(503, { 'content-type': 'text/plain' });
    return void res.end('The front end is not built: run `npm run showcase` (or `npm run build -w @tidings/showcase`).');
  }
  const immutable = file.includes(`${join(root, 'assets')}`);
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  res.end(readFileSync(file));
}

/** A string field of a JSON body, trimmed, 1..max characters. */
export function text(body: unknown, field: string, max: number): string {
  const v = (body as Record<string, unknown> | null)?.[field];
  if (typeof v !== 'string' || !v.trim()) throw new HttpError(400, `${field}: a non-empty string is required`);
  if (v.length > max) throw new HttpError(400, `${field}: at most ${max} characters`);
  return v.trim();
}
