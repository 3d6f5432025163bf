/**
 * The hook caller's HTTP client on a real loopback server: sequential calls
 * reuse one pooled connection, a redirect is an answer (never followed), an
 * answer past the size bound fails as such, and a 503 is retried with the
 * same request id.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HookCaller, MAX_ANSWER_BYTES } from '../packages/server/dist/hooks/caller.js';

type Route = (req: IncomingMessage, res: ServerResponse) => void;
const routes: Record<string, Route> = {
  '/ok': (_req, res) => res.end('{"result":{}}'),
  '/redirect': (_req, res) => res.writeHead(302, { location: '/ok' }).end(),
  '/huge': (_req, res) => res.end('x'.repeat(MAX_ANSWER_BYTES + 1)),
  '/flaky': (req, res) => {
    ids.push(String(req.headers['tidings-webhook-id']));
    res.writeHead(ids.length === 1 ? 503 : 200).end('{"result":{}}');
  },
};
const ids: string[] = [];
let connections = 0;
let base = '';
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => (routes[req.url ?? ''] ?? ((_q, r) => r.writeHead(404).end()))(req, res));
});
server.on('connection', () => connections++);
const caller = new HookCaller({ secret: 'hook-secret-0123456789-0123456789', headers: {}, maxConcurrency: 4, maxQueue: 4 });
const hook = (path: string) => ({ url: `${base}${path}`, timeout: 2000, retries: 1, retryBackoff: 10 });

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  caller.close();
  await new Promise((r) => server.close(r));
});

it('sequential calls share one kept-alive connection', async () => {
  const before = connections;
  for (let i = 0; i < 20; i++) expect(await caller.post(hook('/ok'), 'subscribe', '{}', () => {})).toBe('{"result":{}}');
  expect(connections - before).toBe(1);
});

it('a redirect is refused as an answer, not followed', async () => {
  await expect(caller.post(hook('/redirect'), 'subscribe', '{}', () => {})).rejects.toMatchObject({ reason: 'status', message: expect.stringContaining('302') });
});

it('an answer past the bound fails as an answer problem', async () => {
  await expect(caller.post(hook('/huge'), 'subscribe', '{}', () => {})).rejects.toMatchObject({ reason: 'answer' });
  expect(await caller.post(hook('/ok'), 'subscribe', '{}', () => {})).toBe('{"result":{}}'); // the pool still works
});

it('a 503 is retried once, with the same request id', async () => {
  let retries = 0;
  expect(await caller.post(hook('/flaky'), 'publish', '{}', () => retries++)).toBe('{"result":{}}');
  expect(retries).toBe(1);
  expect(ids).toHaveLength(2);
  expect(ids[0]).toBe(ids[1]);
});
