/**
 * The fenced snippets of the new user guides (docs/cli.md, tokens.md,
 * embedding.md, deployment.md), each run as written (see test/snippets.ts),
 * and fails when one stops working. Snippets that cannot run on this machine
 * are listed in NOT_RUN_HERE with the reason; for those the test checks that
 * every repository file they name exists. docs/protocol.md, api.md,
 * configuration.md and operations.md are reference pages and are not run here.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@tidings/client';
import { parseConfig } from '@tidings/server';
import { SECRET, type TestGateway, freePort, startTestGateway, until } from './helpers.js';
import { type Background, ROOT, type ShellEnv, moduleFile, rewrite, runShell, snippetsOf, startShell, typecheck } from './snippets.js';

const FILES = ['docs/cli.md', 'docs/tokens.md', 'docs/embedding.md', 'docs/deployment.md'];
const all = FILES.flatMap((f) => snippetsOf(f));
const code = (name: string) => {
  const s = all.find((x) => x.name === name);
  if (!s) throw new Error(`no snippet ${name} in ${FILES.join(', ')}`);
  return s.code;
};

const NOT_RUN_HERE: Record<string, string> = {
  'docker-build': 'needs a container engine (test/deploy.test.ts runs the same install steps without one)',
  'compose-up': 'needs a container engine',
  caddyfile: 'Caddy is not installed here (nginx is, and test/deploy.test.ts runs it)',
  'systemd-install': 'needs root and a running systemd (test/deploy.test.ts verifies the unit with systemd-analyze)',
};
const RUN_HERE = [
  'serve-help', 'dev-key-export', 'exit-code-script', 'error-examples',
  'node-hs256', 'python-hs256', 'node-rs256', 'jwks-config', 'get-token-ts',
  'embed-app', 'embed-client-ts', 'embed-gc-flags',
];

const dataDir = mkdtempSync(join(tmpdir(), 'tidings-docs-'));
const running: Background[] = [];
let sh: ShellEnv;
let gateway: Background;

beforeAll(async () => {
  const port = await freePort();
  sh = { ports: { '7070': port }, env: { TIDINGS_DATA_DIR: dataDir, TIDINGS_PORT: String(port) } };
  gateway = await startShell('npx tidings serve', sh, 'tidings listening');
  running.push(gateway);
}, 30_000);
afterAll(async () => {
  for (const b of running) await b.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const devKey = () => (JSON.parse(readFileSync(join(dataDir, 'dev-secrets.json'), 'utf8')) as { apiKey: string }).apiKey;

/** A token printed by a snippet must let its user subscribe to jobs:42 where only the channels claim grants it. */
async function tokenWorks(t: TestGateway, token: string): Promise<void> {
  const client = createClient({ url: t.wsUrl, token });
  const sub = client.subscribe('jobs:42');
  client.connect();
  try {
    await until(() => sub.state === 'subscribed' || client.state === 'failed', 10_000, 'subscribe with the snippet token');
    expect(client.state).toBe('connected');
    expect(sub.state).toBe('subscribed');
  } finally {
    client.disconnect();
  }
}

describe('doc snippets', () => {
  it('every snippet is either run here or listed with the reason it cannot be', () => {
    expect(all.map((s) => s.name).sort()).toEqual([...RUN_HERE, ...Object.keys(NOT_RUN_HERE)].sort());
  });

  it('the snippets not run here name only files that exist', () => {
    for (const name of Object.keys(NOT_RUN_HERE)) {
      for (const path of code(name).match(/\bdeploy\/[\w./-]+/g) ?? []) {
        const file = path.replace(/\/$/, '');
        if (file === 'deploy/tidings.env' || file === 'deploy/nginx/certs') continue; // made by the snippet itself
        expect(existsSync(join(ROOT, file)), `${name}: ${file}`).toBe(true);
      }
    }
  });

  describe('docs/cli.md', () => {
    it('serve-help prints the help', async () => {
      const r = await runShell(code('serve-help'), sh);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('usage: tidings serve');
    });

    it('dev-key-export exports the key the gateway uses', async () => {
      const r = await runShell(`${code('dev-key-export')}\nprintf %s "$TIDINGS_API_KEY"`, sh);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(devKey());
    });

    it('exit-code-script: 0 with a gateway, 3 and its message without one', async () => {
      const ok = await runShell(code('exit-code-script'), sh);
      expect(ok.code, ok.stderr).toBe(0);
      const dead = await freePort();
      const down = await runShell(code('exit-code-script'), { ports: { '7070': dead }, env: { ...sh.env, TIDINGS_PORT: String(dead) } });
      expect(down.code).toBe(3);
      expect(down.stderr).toContain('gateway unreachable: retry later');
    });

    it('error-examples are what the commands print', async () => {
      const [dead, noRedis] = [await freePort(), await freePort()];
      const ports = { '7070': dead, '6379': noRedis };
      const expected = rewrite(code('error-examples'), ports).split('\n');
      const env = { ...sh.env, TIDINGS_PORT: String(dead) };
      const publish = await runShell(`npx tidings publish jobs:42 '{}'`, { ports, env });
      const redis = await runShell(`npx tidings serve --engine redis --redis-url redis://127.0.0.1:6379`, { ports, env });
      const port = await runShell('TIDINGS_PORT=abc npx tidings serve', { ports, env });
      // Only the command's own line: npx may print npm's warnings around it.
      const own = (r: { stderr: string }) => r.stderr.split('\n').filter((l) => l.startsWith('tidings:')).join('\n');
      expect([own(publish), own(redis), own(port)]).toEqual(expected);
      expect([publish.code, redis.code, port.code]).toEqual([3, 3, 1]);
    });
  });

  describe('docs/tokens.md', () => {
    let t: TestGateway;
    let rs: TestGateway;
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    beforeAll(async () => {
      const namespaces = { jobs: { subscribe: 'claims' } };
      t = await startTestGateway({ namespaces });
      rs = await startTestGateway({
        namespaces,
        token: { publicKey: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(), algorithms: ['RS256'] },
      });
    });
    afterAll(async () => {
      await t.close();
      await rs.close();
    });

    it('node-hs256 signs a token the gateway accepts, granting jobs:42', async () => {
      const file = moduleFile('node-hs256', code('node-hs256'), sh.ports);
      const r = await runShell(`node ${file}`, { ports: sh.ports, env: { TIDINGS_TOKEN_SECRET: SECRET } });
      expect(r.code, r.stderr).toBe(0);
      await tokenWorks(t, r.stdout.trim());
    });

    it('python-hs256 (standard library) signs a token the gateway accepts', async () => {
      const file = moduleFile('python-hs256', code('python-hs256'), sh.ports, 'py');
      const r = await runShell(`python3 -I ${file}`, { ports: sh.ports, env: { TIDINGS_TOKEN_SECRET: SECRET } });
      expect(r.code, r.stderr).toBe(0);
      await tokenWorks(t, r.stdout.trim());
    });

    it('node-rs256 signs with a private key; the gateway verifies with the public key', async () => {
      const pem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const file = moduleFile('node-rs256', code('node-rs256'), sh.ports);
      const r = await runShell(`node ${file}`, { ports: sh.ports, env: { TIDINGS_PRIVATE_KEY: pem } });
      expect(r.code, r.stderr).toBe(0);
      await tokenWorks(rs, r.stdout.trim());
    });

    it('jwks-config is a valid configuration', () => {
      const parsed = parseConfig(JSON.parse(code('jwks-config')));
      expect(parsed.token.jwksUrl).toBe('https://auth.example.com/.well-known/jwks.json');
    });
  });

  describe('docs/embedding.md', () => {
    it('embed-app, started as embed-gc-flags says, runs: its RPC handlers answer (streamed), it published, and SIGTERM drains it', async () => {
      const port = await freePort();
      const ports = { '7070': port };
      const file = moduleFile('embed-app', code('embed-app'), ports);
      const line = code('embed-gc-flags').trim();
      expect(line).toMatch(/^node .* app\.js$/);
      const app = await startShell(line.replace(/app\.js$/, file), { ports, env: { TIDINGS_API_KEY: 'embed-api-key-0123456789', TIDINGS_TOKEN_SECRET: SECRET } }, 'gateway listening on');
      running.push(app);
      const t = { wsUrl: `ws://127.0.0.1:${port}/ws` };
      const { signToken } = await import('@tidings/server');
      const client = createClient({ url: t.wsUrl, getToken: () => signToken(SECRET, { sub: 'reader', ttlSeconds: 600 }) });
      client.connect();
      try {
        await client.ready(10_000);
        const chunks: unknown[] = [];
        const { data } = await client.rpc('analyze', 'three little words', { onChunk: (c) => void chunks.push(c) });
        expect(data).toEqual({ words: 3, user: 'reader' });
        expect(chunks).toEqual([{ done: 1, of: 3 }, { done: 2, of: 3 }, { done: 3, of: 3 }]);
        await expect(client.rpc('analyze', 42)).rejects.toMatchObject({ code: 422 });
        expect((await client.rpc<{ now: number }>('time')).data.now).toEqual(expect.any(Number));
        const res = await fetch(`http://127.0.0.1:${port}/api/history`, {
          method: 'POST',
          headers: { authorization: 'apikey embed-api-key-0123456789' },
          body: JSON.stringify({ channel: 'news' }),
        });
        expect((await res.json()).publications.map((p: { data: unknown }) => p.data)).toEqual([{ text: 'the gateway is up' }]);
      } finally {
        client.disconnect();
      }
      app.child.kill('SIGTERM');
      const exitCode = await new Promise<number | null>((r) => (app.child.exitCode !== null ? r(app.child.exitCode) : app.child.once('exit', (c) => r(c))));
      expect(exitCode).toBe(0);
    });
  });

  it('the TypeScript snippets type-check against @tidings/client', async () => {
    const r = await typecheck(
      [
        { name: 'get-token-ts', code: code('get-token-ts') },
        { name: 'embed-client-ts', code: code('embed-client-ts') },
      ],
      '',
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }, 60_000);
});
