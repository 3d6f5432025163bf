/**
 * Several gateway nodes as real child processes (`tidings serve --engine
 * redis`) behind a loopback balancer, and a checker for delivery logs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { type Socket, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { API_KEY, SECRET, freePort, until } from './helpers.js';

const BIN = resolve(import.meta.dirname, '../packages/server/bin/tidings.js');

/** Every node started here, so a test that times out cannot leave one running (see killAllNodes). */
const spawned = new Set<ChildProcess>();

export function killAllNodes(): void {
  for (const child of spawned) child.kill('SIGKILL');
  spawned.clear();
}

export interface NodeProcess {
  port: number;
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
}

export async function startNode(redisUrl: string, config: Record<string, unknown> = {}, env: Record<string, string> = {}): Promise<NodeProcess> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tidings-node-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ log: { level: 'warn' }, shutdown: { timeout: 5 }, ...config }));
  const child = spawn(process.execPath, [BIN, 'serve', '--config', file, '--port', String(port), '--host', '127.0.0.1', '--engine', 'redis', '--redis-url', redisUrl], {
    env: { ...process.env, TIDINGS_TOKEN_SECRET: SECRET, TIDINGS_API_KEY: API_KEY, TIDINGS_CONFIG: '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/ready`)).ok) break;
    } catch {}
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`node did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, child, exited, stderr: () => err };
}

/**
 * A TCP balancer on loopback: each new connection goes to the next backend
 * in turn, skipping ones that refuse, like a load balancer with health checks.
 */
export async function startBalancer(ports: number[]) {
  let next = 0;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    client.on('error', () => {});
    open.add(client);
    client.on('close', () => open.delete(client));
    client.pause();
    const tryBackend = (left: number) => {
      if (left === 0) return void client.destroy();
      const port = ports[next++ % ports.length]!;
      const upstream = connect(port, '127.0.0.1');
      upstream.once('error', () => tryBackend(left - 1));
      upstream.once('connect', () => {
        upstream.removeAllListeners('error');
        upstream.on('error', () => client.destroy());
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    tryBackend(ports.length);
  });
  await new Promise<void>((r) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    close: () => {
      for (const s of open) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface Ack {
  offset: number;
  epoch: string;
  id: number;
}

export interface ClientLog {
  deliveries: Array<{ offset: number; epoch: string; id: number }>;
  /** Times the client was told its position could not be recovered. */
  lost: number;
}

/**
 * The delivery checker: no duplicates; offsets rise within an epoch; a new
 * epoch is entered only after a recovery-failed signal; every acknowledged
 * publication was delivered unless the client was told it lost its position.
 */
export function checkDelivery(acked: Ack[], log: ClientLog): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  let last: { offset: number; epoch: string } | undefined;
  let epochChanges = 0;
  for (const d of log.deliveries) {
    const key = `${d.epoch}:${d.offset}`;
    if (seen.has(key)) problems.push(`duplicate ${key}`);
    seen.add(key);
    if (last && d.epoch === last.epoch && d.offset <= last.offset) problems.push(`out of order ${key} after ${last.offset}`);
    if (last && d.epoch !== last.epoch) epochChanges++;
    last = d;
  }
  if (epochChanges > log.lost) problems.push(`${epochChanges} epoch changes but only ${log.lost} recovery-failed signals`);
  const delivered = new Set(log.deliveries.map((d) => d.id));
  const missing = acked.filter((a) => !delivered.has(a.id));
  if (missing.length > 0 && log.lost === 0) problems.push(`${missing.length} acknowledged publications missing without a recovery-failed signal (first id ${missing[0]!.id})`);
  return problems;
}
