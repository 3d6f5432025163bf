/**
 * The `tidings` command when things go wrong or a person asks for help, with
 * the real bin in child processes: per-command help, exit codes scripts can
 * rely on, errors that say what failed and where, dev secrets found from a
 * subdirectory, personal channels, refusals that end the subscriber.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, until } from './helpers.js';
import { type Ran, TIDINGS_BIN as BIN, runCli } from './run-process.js';

const root = mkdtempSync(join(tmpdir(), 'tidings-cli-errors-'));
const nested = join(root, 'src', 'deep');
mkdirSync(nested, { recursive: true });
const children: ChildProcess[] = [];

function cleanEnv(extra: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TIDINGS_')) delete env[k];
  return { ...env, ...extra };
}

function run(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<Ran> {
  return runCli(args, { cwd: opts.cwd ?? root, env: cleanEnv(opts.env) });
}

function start(args: string[], cwd = root, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(env) });
  children.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (out.stdout += d));
  child.stderr.on('data', (d) => (out.stderr += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out, exited };
}

let port: number;
let server: ReturnType<typeof start>;
beforeAll(async () => {
  port = await freePort();
  server = start(['serve', '--port', String(port)]);
  await until(() => server.out.stdout.includes('tidings listening'), 15_000, `gateway start: ${server.out.stderr}`);
});
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

describe('tidings help', () => {
  it('every command has its own help with options, environment variables and exit codes', async () => {
    for (const [cmd, option, variable] of [
      ['serve', '--redis-url', 'TIDINGS_REDIS_URL'],
      ['publish', '--api-key', 'TIDINGS_API_KEY'],
      ['subscribe', '--token', 'TIDINGS_TOKEN_SECRET'],
      ['token', '--channels', 'TIDINGS_TOKEN_AUDIENCE'],
      ['dev-secrets', '--config', 'TIDINGS_DATA_DIR'],
    ] as const) {
      const r = await run([cmd, '--help']);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toContain(`usage: tidings ${cmd}`);
      expect(r.stdout, cmd).toContain(option);
      expect(r.stdout, cmd).toContain(variable);
      expect(r.stdout, cmd).toContain('exit codes:');
    }
  });

  it('usage errors exit 2 and say which command and option', async () => {
    expect(await run([])).toMatchObject({ code: 2 });
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const option = await run(['publish', '--bogus', 'x']);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/publish: Unknown option '--bogus'.*tidings publish --help/);
    const json = await run(['publish', 'news', '{nope', '--port', String(port)]);
    expect(json.code).toBe(2);
    expect(json.stderr).toContain('is not valid JSON');
  });
});

describe('tidings errors that say what failed and where', () => {
  it('names the environment variable of a bad setting', async () => {
    const abc = await run(['serve'], { env: { TIDINGS_PORT: 'abc' } });
    expect(abc.code).toBe(1);
    expect(abc.stderr).toContain('TIDINGS_PORT: expected a whole number, got "abc"');
    const big = await run(['serve'], { env: { TIDINGS_PORT: '99999' } });
    expect(big.stderr).toContain('port (from TIDINGS_PORT)');
    const flag = await run(['serve', '--engine', 'sqlite']);
    expect(flag.stderr).toContain('engine.type (from --engine)');
  });

  it('publish to a port with nothing on it exits 3 and names the address and the cause', async () => {
    const dead = await freePort();
    const r = await run(['publish', 'news', '{}', '--url', `http://127.0.0.1:${dead}`]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`cannot reach the gateway at http://127.0.0.1:${dead}`);
    expect(r.stderr).toContain('ECONNREFUSED');
  });

  it('a wrong API key exits 1 with the status and the body', async () => {
    const r = await run(['publish', 'news', '{}', '--port', String(port), '--api-key', 'wrong-key-0123456789']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('answered HTTP 401');
  });

  it('an unreachable Redis at start exits 3 with the URL and the cause, and does not hang', async () => {
    const dead = await freePort();
    const r = await run(['serve', '--engine', 'redis', '--redis-url', `redis://127.0.0.1:${dead}`, '--port', '0']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`cannot reach Redis at redis://127.0.0.1:${dead}`);
    expect(r.stderr).toContain('ECONNREFUSED');
  });

  it('--redis-wait retries with a visible log line before giving up', async () => {
    const dead = await freePort();
    const r = await run(['serve', '--engine', 'redis', '--redis-url', `redis://127.0.0.1:${dead}`, '--port', '0', '--redis-wait', '2s']);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('unreachable');
    expect(r.stdout).toContain('retrying');
  });
});

describe('dev secrets from anywhere in the project', () => {
  it('finds the gateway\'s dev secrets from a subdirectory, and prints the API key', async () => {
    const key = await run(['dev-secrets', 'api-key'], { cwd: nested });
    expect(key.code).toBe(0);
    const pub = await run(['publish', 'news', '{"from":"deep"}', '--port', String(port)], { cwd: nested });
    expect(pub.code, pub.stderr).toBe(0);
    const res = await fetch(`http://127.0.0.1:${port}/api/history`, {
      method: 'POST',
      headers: { authorization: `apikey ${key.stdout.trim()}` },
      body: JSON.stringify({ channel: 'news' }),
    });
    expect(res.status).toBe(200);
    expect((await res.json()).publications.at(-1).data).toEqual({ from: 'deep' });
  });

  it('outside any project it says where it looked instead of creating new secrets', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'tidings-elsewhere-'));
    try {
      const r = await run(['publish', 'news', '{}', '--port', String(port)], { cwd: elsewhere });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`looked for .tidings/dev-secrets.json in ${elsewhere} and its parents`);
      const again = await run(['dev-secrets'], { cwd: elsewhere });
      expect(again.code).toBe(2);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('the node on dev secrets listens on 127.0.0.1 only and says so', () => {
    expect(server.out.stdout).toContain('listening on 127.0.0.1 only');
    expect(server.out.stdout).toContain('"host":"127.0.0.1"');
    expect(server.out.stdout).toContain('tidings dev-secrets api-key');
  });
});

describe('tidings subscribe', () => {
  it('watches a personal channel as its user', async () => {
    const sub = start(['subscribe', '#bob', '--port', String(port)]);
    await until(() => sub.out.stderr.includes('subscribed to #bob'), 10_000, `subscribe: ${sub.out.stderr}`);
    const key = (await run(['dev-secrets', 'api-key'])).stdout.trim();
    const res = await fetch(`http://127.0.0.1:${port}/api/user/publish`, {
      method: 'POST',
      headers: { authorization: `apikey ${key}` },
      body: JSON.stringify({ user: 'bob', data: { hi: 'bob' } }),
    });
    expect(res.status).toBe(200);
    await until(() => sub.out.stdout.includes('"hi":"bob"'), 10_000, 'personal publication');
    sub.child.kill('SIGINT');
    expect(await sub.exited).toBe(0);
  });

  it('a personal channel of another user is a usage error', async () => {
    const r = await run(['subscribe', '#bob', '--sub', 'alice', '--port', String(port)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('personal channel of bob');
  });

  it('a token refused for good exits 1', async () => {
    const r = await run(['subscribe', 'news', '--token', 'not-a-token', '--port', String(port)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('connection refused for good');
  });

  it('a channel refused for good exits 1 and names the channel', async () => {
    const r = await run(['subscribe', 'chat#alice', '--sub', 'mallory', '--port', String(port)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('chat#alice refused');
  });
});
