/**
 * Every fenced snippet of README.md, run as written against a fresh gateway
 * (see test/snippets.ts for the environment and the port rewrite). The
 * quickstart's first line starts that gateway (without its `npm ci &&`, which
 * the test run already did); its second line is this test suite's own command.
 * TypeScript snippets are type-checked against the workspace packages, with
 * the app functions the prose assumes (render, getToken…) declared. Snippets
 * in NOT_RUN_HERE are not run, for the reason given there; the test checks the
 * npm script they name exists.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, until } from './helpers.js';
import { type TestRedis, skipWithoutRedis, startRedis } from './redis-server.js';
import { type Background, ROOT, type ShellEnv, runShell, snippetsOf, startShell, typecheck } from './snippets.js';

const snippets = snippetsOf('README.md');
const byName = (name: string) => {
  const s = snippets.find((x) => x.name === name);
  if (!s) throw new Error(`README.md has no snippet ${name}`);
  return s.code;
};
/** The shell lines of a snippet, comments dropped. */
const commandLines = (code: string) => code.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));

const NOT_RUN_HERE: Record<string, string> = {
  showcase: 'builds and starts the whole showcase (Vite, a Node backend, a Python worker); test/showcase.test.ts runs it',
};

const dataDir = mkdtempSync(join(tmpdir(), 'tidings-readme-'));
const running: Background[] = [];
let sh: ShellEnv;
let gateway: Background;

beforeAll(async () => {
  const port = await freePort();
  // The README's gateway listens on the default 7070; here TIDINGS_PORT moves it (and the CLI with it) to a free port.
  sh = { ports: { '7070': port, '7071': await freePort() }, env: { TIDINGS_DATA_DIR: dataDir, TIDINGS_PORT: String(port) } };
  const [serveLine, testLine] = commandLines(byName('quickstart'));
  expect(testLine).toMatch(/^npm ci && npm test\s/);
  expect(serveLine).toMatch(/^npm ci && npx tidings serve\s/);
  gateway = await startShell(serveLine!.replace(/^npm ci && /, ''), sh, 'tidings listening');
  running.push(gateway);
}, 30_000);

afterAll(async () => {
  for (const b of running) await b.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const devKey = () => (JSON.parse(readFileSync(join(dataDir, 'dev-secrets.json'), 'utf8')) as { apiKey: string }).apiKey;

async function history(port: number, channel: string) {
  const res = await fetch(`http://127.0.0.1:${port}/api/history`, {
    method: 'POST',
    headers: { authorization: `apikey ${devKey()}` },
    body: JSON.stringify({ channel }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { publications: Array<{ data: unknown }> }).publications;
}

describe('README snippets, run as written', () => {
  it('knows how to run every snippet in the README', () => {
    const known = ['quickstart', 'subscribe-news', 'publish-news', 'dev-secrets', 'curl-publish', 'python-publish', 'client-ts', 'fallback-rpc-ts', 'scale-out'];
    expect(snippets.map((s) => s.name).sort()).toEqual([...known, ...Object.keys(NOT_RUN_HERE)].sort());
  });

  it('the snippets not run here name npm scripts that exist', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const name of Object.keys(NOT_RUN_HERE)) {
      for (const [, script] of byName(name).matchAll(/npm run ([\w:-]+)/g)) expect(scripts[script!], `${name}: npm run ${script}`).toBeDefined();
    }
  });

  it('quickstart: the gateway starts on the embedded engine, on 127.0.0.1, with its status page', async () => {
    expect(gateway.out.stdout).toContain('listening on 127.0.0.1 only');
    const res = await fetch(`http://127.0.0.1:${sh.ports['7070']}/health`);
    expect(res.status).toBe(200);
    // "Open http://127.0.0.1:7070/ in a browser to see the node's status page."
    const page = await fetch(`http://127.0.0.1:${sh.ports['7070']}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    // The state itself (the page always has a link labelled "Ready"): the title and the status line.
    expect(html).toContain('<title>Tidings gateway · Ready</title>');
    expect(html).toMatch(/<div class="status"><span class="dot"><\/span>Ready<\/div>/);
  });

  it('five minutes: subscribe, then publish; the subscriber prints the publication', async () => {
    const [line] = commandLines(byName('subscribe-news'));
    const sub = await startShell(line!, sh, 'subscribed to news');
    running.push(sub);
    const pub = await runShell(byName('publish-news'), sh);
    expect(pub.code, pub.stderr).toBe(0);
    expect(JSON.parse(pub.stdout)).toMatchObject({ offset: 1 });
    await until(() => sub.out.stdout.includes('"hello":"world"'), 10_000, 'the subscriber prints it');
    await sub.stop();
  });

  it('dev-secrets: prints the API key the gateway uses, and a token', async () => {
    const r = await runShell(byName('dev-secrets'), sh);
    expect(r.code, r.stderr).toBe(0);
    const [key, token] = r.stdout.trim().split('\n');
    expect(key).toBe(devKey());
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('curl-publish: the documented curl publishes with the development key', async () => {
    const r = await runShell(byName('curl-publish'), sh);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ offset: expect.any(Number), epoch: expect.any(String) });
    expect((await history(sh.ports['7070']!, 'jobs:42')).at(-1)!.data).toEqual({ stage: 'transcribing', progress: 40 });
  });

  it('python-publish: the standard-library example publishes', async () => {
    const r = await runShell(byName('python-publish'), sh);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ offset: expect.any(Number) });
    expect((await history(sh.ports['7070']!, 'jobs:42')).at(-1)!.data).toEqual({ stage: 'done', progress: 100 });
  });

  it('the TypeScript snippets type-check against @tidings/client', async () => {
    const prelude = [
      "declare const createClient: typeof import('@tidings/client').createClient;",
      'declare function render(progress: number): void;',
      'declare function refetchJobState(): void;',
      'declare function showProgress(partial: unknown): void;',
      'declare const url: string;',
      'declare const getToken: () => Promise<string>;',
      'declare const audioBytes: Uint8Array;',
      'declare const abortController: AbortController;',
    ].join('\n');
    const r = await typecheck(
      [
        { name: 'client-ts', code: byName('client-ts') },
        { name: 'fallback-rpc-ts', code: byName('fallback-rpc-ts') },
      ],
      prelude,
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }, 60_000);

  describe.skipIf(skipWithoutRedis)('scale-out (needs redis-server; fails under CI=true without it)', () => {
    let redis: TestRedis;
    beforeAll(async () => {
      redis = await startRedis();
    });
    afterAll(() => redis?.destroy());

    it('two nodes on one Redis: a publication on one is in the history of the other', async () => {
      const nodes = [await freePort(), await freePort()];
      const env: ShellEnv = { ports: { '7070': nodes[0]!, '7071': nodes[1]!, '6379': redis.port }, env: { TIDINGS_DATA_DIR: dataDir } };
      for (const line of commandLines(byName('scale-out'))) running.push(await startShell(line, env, 'tidings listening'));
      const res = await fetch(`http://127.0.0.1:${nodes[0]}/api/publish`, {
        method: 'POST',
        headers: { authorization: `apikey ${devKey()}` },
        body: JSON.stringify({ channel: 'scale', data: { via: 'first' } }),
      });
      expect(res.status).toBe(200);
      expect((await history(nodes[1]!, 'scale')).map((p) => p.data)).toEqual([{ via: 'first' }]);
    });
  });
});
