/**
 * The Python SDK (packages/python) against real gateways on 127.0.0.1: its
 * unittest suite runs with python3, and this side checks what only connected
 * clients can see (signals, personal publications, forced unsubscribe and
 * disconnect) and that tokens signed by `sign_token` are accepted.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, RawPeer, SECRET, type TestGateway, connectedPeer, freePort, startTestGateway } from './helpers.js';
import { skipWithoutRedis, startRedis } from './redis-server.js';

const PY_ROOT = resolve(import.meta.dirname, '../packages/python');
const hasPython = spawnSync('python3', ['--version']).status === 0;
// python3 must exist in CI: a missing one fails these tests there instead of skipping them.
const runHere = hasPython || process.env.CI === 'true';

interface PyRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function python(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<PyRun> {
  return new Promise((resolveRun, reject) => {
    const child = execFile(
      'python3',
      args,
      { cwd: PY_ROOT, timeout: timeoutMs, env: { PATH: process.env.PATH ?? '', PYTHONPATH: PY_ROOT, PYTHONDONTWRITEBYTECODE: '1', ...env } },
      (err, stdout, stderr) => {
        if (err && typeof err.code === 'string') return reject(err); // python3 missing (ENOENT)
        resolveRun({ code: child.exitCode, stdout, stderr });
      },
    );
  });
}

describe.skipIf(!runHere)('Python SDK', () => {
  let t: TestGateway;
  let alice: RawPeer;
  const peers: Record<string, RawPeer> = {};

  beforeAll(async () => {
    t = await startTestGateway({
      strictNamespaces: true,
      namespaces: { chat: { presence: true, signals: true }, news: {} },
    });
    alice = await new RawPeer(t.wsUrl).open();
    expect((await alice.call('connect', { token: await t.token('alice', { info: { name: 'Alice' } }) })).result).toBeDefined();
    expect((await alice.call('subscribe', { channel: 'chat:py' })).result).toBeDefined();
    for (const user of ['bob-sync', 'bob-async']) {
      peers[user] = await connectedPeer(t, user);
      expect((await peers[user].call('subscribe', { channel: 'chat:py' })).result).toBeDefined();
    }
    for (const user of ['carol-sync', 'carol-async']) peers[user] = await connectedPeer(t, user);
  });
  afterAll(async () => {
    for (const p of [alice, ...Object.values(peers)]) p?.close();
    await t?.close();
  });

  it('passes its unittest suite against the gateway, sync and async, with nothing skipped', async () => {
    const r = await python(['-m', 'unittest', 'discover', '-s', 'tests', '-v'], {
      TIDINGS_URL: t.httpUrl,
      TIDINGS_API_KEY: API_KEY,
      TIDINGS_SECRET: SECRET,
    });
    const report = `${r.stdout}\n${r.stderr}`;
    expect(r.code, report).toBe(0);
    expect(report).toMatch(/^OK$/m);
    expect(report).not.toMatch(/skipped/);
    const ran = Number(/Ran (\d+) tests/.exec(report)?.[1] ?? 0);
    expect(ran, report).toBeGreaterThanOrEqual(40);
  }, 150_000);

  it("reached the connected clients: signals, personal publications, unsubscribe and disconnect", async () => {
    const signals = alice.frames.filter((f) => f.type === 'signal' && f.channel === 'chat:py').map((f) => f.data);
    expect(signals).toEqual(expect.arrayContaining([{ from: 'sync' }, { from: 'async' }]));
    // The front lost these answers after the gateway had sent them (once from each client): none was sent again.
    expect(signals.filter((d) => JSON.stringify(d) === '{"once":true}')).toHaveLength(2);
    const personal = alice.frames.filter((f) => f.type === 'pub' && f.channel === '#alice').map((f) => f.data);
    expect(personal).toEqual(expect.arrayContaining([{ from: 'sync' }, { from: 'async' }]));
    for (const user of ['bob-sync', 'bob-async']) {
      const unsub = await peers[user]!.waitFor((f) => f.type === 'unsub', 5000);
      expect(unsub).toMatchObject({ channel: 'chat:py', code: 2000, resubscribe: false });
    }
    expect(await peers['carol-sync']!.closed).toMatchObject({ code: 3503 });
    expect(await peers['carol-async']!.closed).toEqual({ code: 3011, reason: 'maintenance' });
  });
});

describe.skipIf(!runHere)('tokens from sign_token', () => {
  let t: TestGateway;
  let tokens: Record<string, string>;
  beforeAll(async () => {
    t = await startTestGateway({
      token: { hmacSecret: SECRET, audience: 'tidings-test', issuer: 'py-backend' },
      namespaces: { jobs: { subscribe: 'claims', presence: true } },
    });
    const r = await python(['tests/print_tokens.py'], { TIDINGS_SECRET: SECRET }, 30_000);
    expect(r.code, r.stderr).toBe(0);
    tokens = JSON.parse(r.stdout);
  });
  afterAll(() => t?.close());

  it('are accepted by the gateway, with their channels, info, aud and iss', async () => {
    const peer = await new RawPeer(t.wsUrl).open();
    const reply = await peer.call('connect', { token: tokens.good });
    expect(reply.result).toMatchObject({ user: 'py-user' });
    expect(reply.result.ttl).toBeGreaterThan(3500);
    expect((await peer.call('subscribe', { channel: 'jobs:py-1' })).result).toMatchObject({ channel: 'jobs:py-1' });
    expect((await peer.call('subscribe', { channel: 'jobs:py-2' })).error).toMatchObject({ code: 103 });
    const presence = await t.api('/api/presence', { channel: 'jobs:py-1' });
    expect(presence.body.clients).toEqual([expect.objectContaining({ user: 'py-user', info: { name: 'Py' } })]);
    peer.close();
  });

  it.each([
    ['no_audience', 3500],
    ['wrong_secret', 3500],
    ['expired', 3502],
  ])('are refused when %s (close %i)', async (name, code) => {
    const peer = await new RawPeer(t.wsUrl).open();
    peer.sendRaw(JSON.stringify({ id: 1, method: 'connect', params: { token: tokens[name] } }));
    expect((await peer.closed).code).toBe(code);
  });
});

describe.skipIf(!runHere)('pip install ./packages/python', () => {
  it('installs offline (no index, no build isolation) and imports from the installed copy', async () => {
    const target = mkdtempSync(join(tmpdir(), 'tidings-py-'));
    try {
      const install = await python(['-m', 'pip', 'install', '--no-index', '--no-build-isolation', '--no-deps', '--target', target, '.'], { PIP_DISABLE_PIP_VERSION_CHECK: '1' }, 90_000);
      expect(install.code, install.stdout + install.stderr).toBe(0);
      const probe = 'import sys, tidings; sys.stdout.write(tidings.__file__ + " " + tidings.sign_token("s" * 32, "u").count(".").__str__())';
      // -I ignores PYTHONPATH, so only the installed copy can be found (through the target folder).
      const r = await python(['-I', '-c', `import sys; sys.path.insert(0, ${JSON.stringify(target)}); ${probe}`], {}, 30_000);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${join(target, 'tidings', '__init__.py')} 2`);
    } finally {
      rmSync(target, { recursive: true, force: true });
    }
  }, 120_000);
});

/** One publish with room to retry through a restart; prints its position. */
const PUBLISH_THROUGH_RESTART = `
import json, os
from tidings import Tidings
client = Tidings(os.environ["TIDINGS_URL"], os.environ["TIDINGS_API_KEY"], timeout=5, retries=40, backoff=0.05, max_backoff=0.2)
print(json.dumps(list(client.publish("jobs:restart", {"done": True}))))
`;

describe.skipIf(!runHere || skipWithoutRedis)('Python SDK across a gateway restart (Redis engine)', () => {
  it('retries a publish whose answer died with the gateway, with the same key, and it is published once', async () => {
    const redis = await startRedis();
    const port = await freePort();
    const engine = { type: 'redis', redisUrl: redis.url, prefix: 'pyrestart:' };
    const keysSeen: Array<string | undefined> = [];
    const first = await startTestGateway({ engine }, port);
    let second: TestGateway | undefined;
    try {
      const broker = first.gw.ctx.engine.broker;
      const publish = broker.publish.bind(broker);
      let stored!: () => void;
      const storedOnce = new Promise<void>((r) => (stored = r));
      broker.publish = async (...args: Parameters<typeof publish>) => {
        keysSeen.push(args[2]?.idempotencyKey);
        await publish(...args); // stored in Redis...
        stored();
        return new Promise<never>(() => {}); // ...and the answer never leaves: the gateway is killed first
      };
      const run = python(['-c', PUBLISH_THROUGH_RESTART], { TIDINGS_URL: first.httpUrl, TIDINGS_API_KEY: API_KEY }, 60_000);
      await storedOnce;
      await first.gw.close(0); // cuts the request's connection
      second = await startTestGateway({ engine }, port);
      const again = second.gw.ctx.engine.broker;
      const publishAgain = again.publish.bind(again);
      again.publish = (...args: Parameters<typeof publishAgain>) => {
        keysSeen.push(args[2]?.idempotencyKey);
        return publishAgain(...args);
      };
      const r = await run;
      expect(r.code, r.stderr).toBe(0);
      const history = await second.api('/api/history', { channel: 'jobs:restart' });
      expect(history.body.publications.map((p: any) => p.data)).toEqual([{ done: true }]);
      expect(JSON.parse(r.stdout)).toEqual([1, history.body.epoch]);
      expect(keysSeen).toHaveLength(2);
      expect(keysSeen[0]).toBeTruthy();
      expect(keysSeen[1]).toBe(keysSeen[0]);
    } finally {
      await first.close();
      await second?.close();
      await redis.destroy();
    }
  }, 90_000);
});
