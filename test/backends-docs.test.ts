/**
 * docs/backends.md stays true: its config is valid, its hook answers are what
 * the parser accepts, its hook requests have the fields a real gateway sends,
 * and its Node and Python snippets run against a real gateway. The FastAPI,
 * Flask and Express fragments need those frameworks (not installed here); for
 * them the test checks that the SDK functions they call exist.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@tidings/server';
import { parseAnswer } from '../packages/server/dist/hooks/answers.js';
import { HOOK_SECRET, startHookBackend } from './hook-backend.js';
import { API_KEY, RawPeer, type TestGateway, startTestGateway, until } from './helpers.js';
import { ROOT, moduleFile, snippetsOf } from './snippets.js';

const run = promisify(execFile);
const all = snippetsOf('docs/backends.md');
const code = (name: string) => {
  const s = all.find((x) => x.name === name);
  if (!s) throw new Error(`no snippet ${name} in docs/backends.md`);
  return s.code;
};
const HOOKS = ['connect', 'subscribe', 'publish', 'refresh'] as const;
const NOT_RUN_HERE: Record<string, string> = {
  'fastapi-token': 'needs FastAPI (test/python-sdk.test.ts checks sign_token tokens against a gateway)',
  'express-token': 'needs Express (signToken is what test/helpers.ts signs every test token with)',
  'flask-hook': 'needs Flask (examples/python/hooks_backend.py does the same with http.server and is run)',
  'run-hooks-backend': 'binds port 8000; test/hooks-python-example.test.ts runs the same script on a free port',
};
const RUN_HERE = ['hooks-config', 'node-verify', 'node-publish', 'python-publish', ...HOOKS.flatMap((h) => [`${h}-request`, `${h}-answer`])];

it('every snippet is run here or says why not', () => {
  expect(all.map((s) => s.name).sort()).toEqual([...RUN_HERE, ...Object.keys(NOT_RUN_HERE)].sort());
  const python = readFileSync(join(ROOT, 'packages/python/tidings/__init__.py'), 'utf8');
  for (const name of ['sign_token', 'verify_webhook', 'WebhookVerificationError']) expect(python).toContain(`"${name}"`);
  expect(code('run-hooks-backend')).toContain('examples/python/hooks_backend.py');
  expect(existsSync(join(ROOT, 'examples/python/hooks_backend.py'))).toBe(true);
  expect(readFileSync(join(ROOT, 'examples/python/hooks_backend.py'), 'utf8')).toContain('os.environ["TIDINGS_HOOK_SECRET"]');
});

it('the configuration is valid', () => {
  const cfg = parseConfig(JSON.parse(code('hooks-config')));
  expect(cfg.hooks.namespaces.jobs?.subscribe).toMatchObject({ cacheTtl: 30_000, failMode: 'closed' });
});

it('each documented answer is accepted as a yes', () => {
  for (const h of HOOKS) expect(parseAnswer(h, code(`${h}-answer`)).ok, h).toBe(true);
});

describe('against a real gateway', () => {
  let backend: Awaited<ReturnType<typeof startHookBackend>>;
  let t: TestGateway;
  beforeAll(async () => {
    backend = await startHookBackend((call) => {
      if (call.path === '/connect') return { result: { user: 'alice', info: { name: 'Alice' }, ttl: 1 } };
      if (call.path === '/refresh') return { result: { ttl: 3600 } };
      return { result: {} };
    });
    const url = (p: string) => ({ url: `${backend.url}${p}` });
    t = await startTestGateway({
      namespaces: { jobs: {}, chat: { publish: 'subscribers' } },
      hooks: { secret: HOOK_SECRET, forwardCookies: ['session'], forwardHeaders: ['user-agent'], connect: url('/connect'), refresh: url('/refresh'), subscribe: url('/subscribe'), publish: url('/publish') },
    });
  });
  afterAll(async () => {
    await t.close();
    await backend.close();
  });

  it('sends each hook request with the documented fields', async () => {
    const peer = await new RawPeer(t.wsUrl, { headers: { cookie: 'session=sess-alice', 'user-agent': 'docs-test' } }).open();
    expect((await peer.call('connect', { data: { device: 'web' } })).error).toBeUndefined();
    expect((await peer.call('subscribe', { channel: 'chat:lobby', data: { reason: 'dashboard' } })).error).toBeUndefined();
    expect((await peer.call('publish', { channel: 'chat:lobby', data: { text: 'hello' } })).error).toBeUndefined();
    await until(() => backend.callsTo('/refresh').length === 1, 10_000, 'the refresh hook');
    for (const h of HOOKS) {
      const sent = backend.callsTo(`/${h}`)[0]!;
      expect(sent.headers['tidings-hook'], h).toBe(h);
      expect(Object.keys(sent.body).sort(), h).toEqual(Object.keys(JSON.parse(code(`${h}-request`))).sort());
    }
    peer.close();
  });

  it('verifyHook (node-verify) accepts a real request and refuses a changed one', async () => {
    const { verifyHook } = await import(moduleFile('node-verify', code('node-verify'), {}));
    const sent = backend.calls[0]!;
    expect(verifyHook(HOOK_SECRET, Buffer.from(sent.raw), sent.headers)).toEqual(sent.body);
    expect(verifyHook(HOOK_SECRET, Buffer.from(`${sent.raw} `), sent.headers)).toBeNull();
    expect(verifyHook('another-secret-of-32-characters-long!', Buffer.from(sent.raw), sent.headers)).toBeNull();
  });

  it('node-publish publishes', async () => {
    const file = moduleFile('node-publish', code('node-publish'), { 7070: t.port });
    await run(process.execPath, [file], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', TIDINGS_API_KEY: API_KEY }, timeout: 30_000 });
    const h = await t.api('/api/history', { channel: 'jobs:42' });
    expect(h.body.publications.map((p: any) => p.data)).toContainEqual({ stage: 'transcribing', progress: 40 });
  });

  const hasPython = spawnSync('python3', ['--version']).status === 0;
  it.skipIf(!hasPython && process.env.CI !== 'true')('python-publish publishes', async () => {
    const file = moduleFile('python-publish', `API_KEY = ${JSON.stringify(API_KEY)}\n${code('python-publish')}`, { 7070: t.port }, 'py');
    await run('python3', [file], { env: { PATH: process.env.PATH ?? '', PYTHONPATH: resolve(ROOT, 'packages/python') }, timeout: 30_000 });
    const personal = await t.api('/api/history', { channel: '#alice' });
    expect(personal.body.publications.map((p: any) => p.data)).toContainEqual({ notice: 'your export is ready' });
  });
});
