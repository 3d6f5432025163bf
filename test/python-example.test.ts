/** The seeds' backends are Python: the stdlib example publishes and a subscribed client receives it. */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient } from '@tidings/client';
import { API_KEY, type TestGateway, startTestGateway, until } from './helpers.js';

const run = promisify(execFile);
const SCRIPT = resolve(import.meta.dirname, '../examples/python/publish.py');
let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t.close());

it('examples/python/publish.py publishes with the standard library only', async () => {
  const client = createClient({ url: t.wsUrl, getToken: () => t.token('py') });
  const got: unknown[] = [];
  const sub = client.subscribe('jobs:7', { onPublication: (p) => void got.push(p.data) });
  client.connect();
  await until(() => sub.state === 'subscribed', 5000, 'subscribed');
  // python3 must exist here: .ci/run installs it, and a missing one fails this test.
  const { stdout } = await run('python3', ['-I', SCRIPT, 'jobs:7', '{"stage": "done", "progress": 100}', 'key-1'], {
    env: { PATH: process.env.PATH, TIDINGS_URL: t.httpUrl, TIDINGS_API_KEY: API_KEY },
  });
  expect(JSON.parse(stdout)).toMatchObject({ offset: 1 });
  await until(() => got.length === 1, 5000, 'delivery');
  expect(got[0]).toEqual({ stage: 'done', progress: 100 });
  // Same idempotency key: no second publication.
  const again = await run('python3', ['-I', SCRIPT, 'jobs:7', '{"stage": "done", "progress": 100}', 'key-1'], {
    env: { PATH: process.env.PATH, TIDINGS_URL: t.httpUrl, TIDINGS_API_KEY: API_KEY },
  });
  expect(JSON.parse(again.stdout)).toMatchObject({ offset: 1 });
  await new Promise((r) => setTimeout(r, 200));
  expect(got).toHaveLength(1);
  client.disconnect();
});

it('examples/python/publish.py --batch publishes a JSON array from stdin in one request, one result per item', async () => {
  const client = createClient({ url: t.wsUrl, getToken: () => t.token('py') });
  const got: Array<[string, unknown]> = [];
  const subs = ['jobs:41', 'jobs:42'].map((channel) => client.subscribe(channel, { onPublication: (p) => void got.push([channel, p.data]) }));
  client.connect();
  await until(() => subs.every((s) => s.state === 'subscribed'), 5000, 'subscribed');
  const items = [
    { channel: 'jobs:41', data: { progress: 40 } },
    { channel: 'bad channel!', data: 0 },
    { channel: 'jobs:42', data: { progress: 15 } },
    { channel: 'jobs:41', data: { progress: 45 } },
  ];
  const child = execFile('python3', ['-I', SCRIPT, '--batch'], { env: { PATH: process.env.PATH, TIDINGS_URL: t.httpUrl, TIDINGS_API_KEY: API_KEY } });
  let stdout = '';
  child.stdout!.on('data', (c: Buffer) => void (stdout += c));
  child.stdin!.end(JSON.stringify(items));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  expect(code).toBe(0);
  const results = JSON.parse(stdout) as Array<{ offset?: number; error?: { code: number } }>;
  expect(results.map((r) => r.offset ?? r.error?.code)).toEqual([1, 102, 1, 2]);
  await until(() => got.length === 3, 5000, 'deliveries');
  expect(got).toEqual([
    ['jobs:41', { progress: 40 }],
    ['jobs:42', { progress: 15 }],
    ['jobs:41', { progress: 45 }],
  ]);
  client.disconnect();
});
