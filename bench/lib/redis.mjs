/** A throwaway redis-server on a free loopback port, for the scale-out figures. */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { freePort, sleep } from './sys.mjs';

/** Start redis-server (no persistence), pinned to `cpu` when given. Resolves once it accepts connections. */
export async function startRedis({ cpu } = {}) {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = cpu === undefined ? spawn('redis-server', args, { stdio: 'ignore' }) : spawn('taskset', ['-c', String(cpu), 'redis-server', ...args], { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  child.once('error', () => {}); // a missing binary shows as "did not start" below
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((r) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (up) return { url: `redis://127.0.0.1:${port}`, pid: child.pid, stop: () => (child.kill('SIGKILL'), exited) };
    if (child.exitCode !== null || child.signalCode !== null) break;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not start (is it installed? apt-get install redis-server)');
}

/**
 * A throwaway 3-primary Redis Cluster (no replicas) on free loopback ports,
 * joined with `redis-cli --cluster create`, each server pinned to `cpu`.
 */
export async function startRedisCluster({ cpu } = {}) {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const servers = [];
  const stop = async () => {
    for (const s of servers) s.child.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.exited));
    for (const s of servers) rmSync(s.dir, { recursive: true, force: true });
  };
  try {
    while (servers.length < 3) {
      const port = await freePort();
      if (port > 55_000) continue; // the cluster bus listens on port + 10000
      const dir = mkdtempSync(join(tmpdir(), 'bench-cluster-'));
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf')];
      const child = cpu === undefined ? spawn('redis-server', args, { stdio: 'ignore' }) : spawn('taskset', ['-c', String(cpu), 'redis-server', ...args], { stdio: 'ignore' });
      servers.push({ port, dir, child, exited: new Promise((r) => child.once('exit', r)) });
      for (let i = 0; i < 100 && !(await isUp(port)); i++) await sleep(50);
    }
    const nodes = servers.map((s) => `127.0.0.1:${s.port}`);
    execFileSync('redis-cli', ['-p', String(servers[0].port), '--cluster', 'create', ...nodes, '--cluster-yes'], { stdio: 'ignore', timeout: 30_000 });
    for (const s of servers) {
      for (let i = 0; i < 200; i++) {
        if (execFileSync('redis-cli', ['-p', String(s.port), 'CLUSTER', 'INFO']).toString().includes('cluster_state:ok')) break;
        await sleep(100);
      }
    }
    return { nodes, pids: servers.map((s) => s.child.pid), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function isUp(port) {
  return new Promise((r) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), r(true)));
    s.once('error', () => r(false));
  });
}
