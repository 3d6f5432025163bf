/**
 * A real redis-server for tests: own port on 127.0.0.1, own data folder,
 * stopped by the test. Under CI=true a missing redis-server fails the tests
 * that need it (.ci/run installs it); elsewhere they are skipped.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './helpers.js';

export const REDIS_BIN = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
/** Skip the suite only outside CI; in CI a missing redis-server must fail. */
export const skipWithoutRedis = !REDIS_BIN && process.env.CI !== 'true';

async function waitForPort(port: number, up: boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((r) => {
      const s = createConnection(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (open === up) return;
    if (Date.now() > deadline) throw new Error(`redis on ${port} did not ${up ? 'start' : 'stop'}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

export interface TestRedis {
  url: string;
  port: number;
  /** Stop with SHUTDOWN SAVE (data kept on disk). */
  stop(): Promise<void>;
  /** Start again on the same port with the same data. */
  start(): Promise<void>;
  /** Run a command through redis-cli-like raw RESP. */
  command(...args: string[]): Promise<string>;
  destroy(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  if (!REDIS_BIN) throw new Error('redis-server is required (apt-get install redis-server)');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tidings-redis-'));
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(REDIS_BIN, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], { stdio: 'ignore' });
    await waitForPort(port, true);
  };
  const command = (...args: string[]) =>
    new Promise<string>((resolve, reject) => {
      const s = createConnection(port, '127.0.0.1');
      let out = '';
      s.on('data', (d) => {
        out += d;
        if (out.endsWith('\r\n')) (s.end(), resolve(out.trim()));
      });
      s.on('error', reject);
      s.on('close', () => resolve(out.trim())); // SHUTDOWN answers by closing
      s.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    command,
    start,
    async stop() {
      const exited = new Promise((r) => child?.once('exit', r));
      await command('SHUTDOWN', 'SAVE').catch(() => {});
      await exited;
      await waitForPort(port, false);
    },
    async destroy() {
      child?.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
