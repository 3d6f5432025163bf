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
