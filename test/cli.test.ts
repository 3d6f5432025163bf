/**
 * A newcomer's path with the real `tidings` command in child processes: serve
 * with no configuration, token, subscribe, publish; the subscriber survives a
 * gateway restart.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, until } from './helpers.js';

const BIN = resolve(import.meta.dirname, '../packages/server/bin/tidings.js');
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'tidings-cli-'));
const children: ChildProcess[] = [];

function env(port: number) {
  const { TIDINGS_API_KEY: _a, TIDINGS_TOKEN_SECRET: _b, TIDINGS_CONFIG: _c, ...rest } = process.env;
  return { ...rest, TIDINGS_PORT: String(port), TIDINGS_HOST: '127.0.0.1' };
}

function start(args: string[], port: number) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: env(port) });
  children.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (out.stdout += d));
  child.stderr.on('data', (d) => (out.stderr += d));
  return { child, out };
}

async function serve(port: number) {
  const s = start(['serve'], port);
  await until(() => s.out.stdout.includes('tidings listening'), 15_000, `gateway start: ${s.out.stderr}`);
  return s;
}

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('tidings command', () => {
  it('serves with no configuration; token, subscribe and publish work, across a restart', async () => {
    const port = await freePort();
    let server = await serve(port);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);

    const token = await run(process.execPath, [BIN, 'token', '--sub', 'alice'], { cwd: dir, env: env(port) });
    expect(token.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const sub = start(['subscribe', 'news'], port);
    await until(() => sub.out.stderr.includes('subscribed to news'), 15_000, `subscribe: ${sub.out.stderr}`);
    const pub = await run(process.execPath, [BIN, 'publish', 'news', '{"hello":"world"}'], { cwd: dir, env: env(port) });
    expect(JSON.parse(pub.stdout)).toMatchObject({ offset: 1 });
    await until(() => sub.out.stdout.includes('"hello":"world"'), 10_000, 'message arrives');

    // Restart the gateway: the subscriber reconnects by itself and keeps receiving.
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
    server = await serve(port);
    await until(() => (sub.out.stderr.match(/subscribed to news|could not recover/g) ?? []).length >= 2, 20_000, `resubscribe: ${sub.out.stderr}`);
    await run(process.execPath, [BIN, 'publish', 'news', '{"after":"restart"}'], { cwd: dir, env: env(port) });
    await until(() => sub.out.stdout.includes('"after":"restart"'), 10_000, 'message after restart');
    sub.child.kill('SIGINT');
    server.child.kill('SIGTERM');
  });

  it('refuses a wrong configuration with a message that names the field', async () => {
    const port = await freePort();
    const bad = join(dir, 'bad.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(bad, JSON.stringify({ client: { queueMaxBytes: 5 }, namespaces: { chat: { publish: 'everyone' } } }));
    const err = await run(process.execPath, [BIN, 'serve', '--config', bad], { cwd: dir, env: env(port) }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toContain('client.queueMaxBytes');
    expect(err.stderr).toContain('namespaces.chat.publish');
  });
});
