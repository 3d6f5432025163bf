/**
 * Starting and stopping the servers under test. Each runs as its own child
 * process pinned to core 0 (the generator has core 1), with the memory probe
 * preloaded. `launch` resolves once /health answers.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { API_KEY, SECRET } from '../lib/auth.mjs';
import { freePort, procStats, sleep } from '../lib/sys.mjs';
import * as protocols from '../generator/protocols.mjs';

const here = import.meta.dirname;
const PROBE = resolve(here, 'probe.mjs');
const TIDINGS_BIN = resolve(here, '../../packages/server/bin/tidings.js');

/** The servers under test: how to start each and which generator adapter speaks to it. */
export const SERVERS = {
  tidings: { protocol: protocols.tidings, args: (port) => [TIDINGS_BIN, 'serve', '--port', String(port), '--host', '127.0.0.1'] },
  /** Tidings with its HTTP fast lane off: every API request through node:http (an A/B within one build). */
  'tidings-node-http': {
    protocol: protocols.tidings,
    args: (port) => [TIDINGS_BIN, 'serve', '--port', String(port), '--host', '127.0.0.1', '--config', resolve(here, 'tidings-node-http.json')],
  },
  socketio: { protocol: protocols.socketio, args: (port) => [resolve(here, 'socketio.mjs'), '--port', String(port)] },
  ws: { protocol: protocols.ws, args: (port) => [resolve(here, 'ws-broadcast.mjs'), '--port', String(port)] },
  'ws-coalesce': { protocol: protocols.ws, args: (port) => [resolve(here, 'ws-broadcast.mjs'), '--port', String(port), '--coalesce'] },
};

/** Kinds for an A/B within one build, run only when named (`--servers`), never in the default suite. */
export const AB_ONLY = new Set(['tidings-node-http']);

/**
 * @param {keyof SERVERS} kind
 * @param {{cpu?: number, profileDir?: string, env?: object, args?: string[]}} [opts]
 *   args: extra command-line arguments for the server (e.g. `--engine redis`)
 */
export async function launch(kind, { cpu = 0, profileDir, env = {}, args = [] } = {}) {
  const spec = SERVERS[kind];
  const port = await freePort();
  // BENCH_NODE_FLAGS: extra V8/Node flags for the servers under test (--trace-gc, --max-semi-space-size=…), never in NODE_OPTIONS' allowlist.
  const extra = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const nodeArgs = ['--expose-gc', ...extra, '--import', PROBE, ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `${kind}-${Date.now()}.cpuprofile`] : [])];
  const child = spawn('taskset', ['-c', String(cpu), process.execPath, ...nodeArgs, ...spec.args(port), ...args], {
    env: { ...process.env, TIDINGS_TOKEN_SECRET: SECRET, TIDINGS_API_KEY: API_KEY, TIDINGS_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = new RunningServer(kind, spec.protocol, child, port);
  await server.waitHealthy();
  return server;
}

class RunningServer {
  probes = [];

  constructor(kind, protocol, child, port) {
    Object.assign(this, { kind, protocol, child, port, host: '127.0.0.1' });
    this.exited = new Promise((r) => child.once('exit', r));
    // Forward the server's own output (warnings, crashes), keep probe lines for us.
    createInterface({ input: child.stdout }).on('line', (l) => process.stderr.write(`[${kind}] ${l}\n`));
    createInterface({ input: child.stderr }).on('line', (l) => {
      if (l.startsWith('BENCH_PROBE ')) this.probes.shift()?.(JSON.parse(l.slice(12)));
      else process.stderr.write(`[${kind}] ${l}\n`);
    });
  }

  get pid() {
    return this.child.pid;
  }

  /** Where the generator connects and publishes. */
  get target() {
    return { host: this.host, port: this.port };
  }

  async waitHealthy(timeoutMs = 15_000) {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if (this.child.exitCode !== null) break;
      try {
        if ((await fetch(`http://${this.host}:${this.port}/health`)).ok) return;
      } catch {}
      await sleep(50);
    }
    throw new Error(`${this.kind} did not start`);
  }

  /** CPU ms and RSS from /proc. */
  stats() {
    return procStats(this.pid);
  }

  /** Force GC in the server and read its memory (via the preloaded probe). */
  probe(timeoutMs = 10_000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('probe timed out')), timeoutMs);
      this.probes.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.child.kill('SIGUSR2');
    });
  }

  /** SIGTERM (the server drains and exits, writing its CPU profile), SIGKILL after `graceMs`. */
  async stop(graceMs = 8000) {
    if (this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    const killed = await Promise.race([this.exited.then(() => false), sleep(graceMs).then(() => true)]);
    if (killed) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}
