/**
 * A real redis-server for tests: own port on 127.0.0.1, own data folder,
 * stopped by the test. Under CI=true a missing redis-server fails the tests
 * that need it (.ci/run installs it); elsewhere they are skipped.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

/** How many times Redis ran the named commands, from the text of `INFO commandstats`. */
export function commandCalls(info: string, names: readonly string[]): number {
  let n = 0;
  for (const m of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) if (names.includes(m[1]!)) n += Number(m[2]);
  return n;
}

/** PUBLISH_SCRIPT and PUBLISH_BATCH_SCRIPT calls (ioredis sends EVALSHA, EVAL after a NOSCRIPT). */
export const SCRIPT_COMMANDS = ['evalsha', 'eval'] as const;

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

// ------------------------------------------------------------ Cluster and Sentinel

export const REDIS_CLI = ['/usr/bin/redis-cli', '/usr/local/bin/redis-cli'].find((p) => existsSync(p));
/** Cluster and Sentinel sets need redis-cli too (cluster create); under CI=true missing binaries fail. */
export const skipWithoutRedisTools = (!REDIS_BIN || !REDIS_CLI) && process.env.CI !== 'true';

/** Run redis-cli against a port; resolves with its output (trimmed). */
export function cli(port: number, ...args: string[]): Promise<string> {
  if (!REDIS_CLI) return Promise.reject(new Error('redis-cli is required (apt-get install redis-tools)'));
  return new Promise((resolve, reject) =>
    execFile(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 20_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}${stderr}`)) : resolve(stdout.trim()))),
  );
}

/** A free port whose cluster bus port (+10000) is free too. */
async function clusterPort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await freePort();
    if (port < 55_000 && (await portFree(port + 10_000))) return port;
  }
  throw new Error('no free port pair for a cluster node');
}

function portFree(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = createConnection(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), r(false)));
    s.once('error', () => r(true));
  });
}

async function until(what: string, cond: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface ServerProcess {
  port: number;
  child: ChildProcess;
  dir: string;
}

async function spawnServer(args: string[], port: number, dir: string): Promise<ServerProcess> {
  if (!REDIS_BIN) throw new Error('redis-server is required (apt-get install redis-server)');
  const child = spawn(REDIS_BIN, [...args, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitForPort(port, true);
  return { port, child, dir };
}

export interface TestCluster {
  /** Seed nodes, `127.0.0.1:port`. */
  nodes: string[];
  ports: number[];
  /** The primary's port that owns `slot`. */
  ownerOf(slot: number): Promise<number>;
  /** The owners of `slots`, from one node's view of the cluster. */
  ownersOf(slots: number[]): Promise<number[]>;
  /** Move `slot` (and its keys) to the primary on `toPort`, as `redis-cli --cluster reshard` does for each slot. */
  migrateSlot(slot: number, toPort: number): Promise<void>;
  destroy(): Promise<void>;
}

/** Three primaries (`--cluster-enabled yes`), joined by `redis-cli --cluster create`, no replicas. */
export async function startRedisCluster(): Promise<TestCluster> {
  const procs: ServerProcess[] = [];
  const destroy = async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    for (const p of procs) rmSync(p.dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 3; i++) {
      const port = await clusterPort();
      const dir = mkdtempSync(join(tmpdir(), 'tidings-cluster-'));
      procs.push(await spawnServer(['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-node-timeout', '3000'], port, dir));
    }
    const nodes = procs.map((p) => `127.0.0.1:${p.port}`);
    await cli(procs[0]!.port, '--cluster', 'create', ...nodes, '--cluster-yes');
    for (const p of procs) await until('cluster_state:ok', async () => (await cli(p.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'));
  } catch (err) {
    await destroy();
    throw err;
  }
  const ports = procs.map((p) => p.port);
  const ids = new Map<number, string>();
  for (const port of ports) ids.set(port, await cli(port, 'CLUSTER', 'MYID'));
  const ownerOf = async (slot: number) => {
    for (const port of ports) {
      const mine = (await cli(port, 'CLUSTER', 'NODES')).split('\n').find((l) => l.includes('myself'));
      if (mine && ownsSlot(mine, slot)) return port;
    }
    throw new Error(`no owner for slot ${slot}`);
  };
  return {
    nodes: ports.map((p) => `127.0.0.1:${p}`),
    ports,
    ownerOf,
    async ownersOf(slots) {
      const lines = (await cli(ports[0]!, 'CLUSTER', 'NODES')).split('\n');
      return slots.map((slot) => {
        const line = lines.find((l) => l.includes('master') && ownsSlot(l, slot));
        return Number(/:(\d+)@/.exec(line ?? '')?.[1] ?? 0);
      });
    },
    async migrateSlot(slot, toPort) {
      const fromPort = await ownerOf(slot);
      if (fromPort === toPort) return;
      const s = String(slot);
      await cli(toPort, 'CLUSTER', 'SETSLOT', s, 'IMPORTING', ids.get(fromPort)!);
      await cli(fromPort, 'CLUSTER', 'SETSLOT', s, 'MIGRATING', ids.get(toPort)!);
      for (let batch = 0; batch < 1000; batch++) {
        const keys = (await cli(fromPort, 'CLUSTER', 'GETKEYSINSLOT', s, '100')).split('\n').filter(Boolean);
        if (keys.length === 0) break;
        await cli(fromPort, 'MIGRATE', '127.0.0.1', String(toPort), '', '0', '5000', 'KEYS', ...keys);
      }
      await cli(toPort, 'CLUSTER', 'SETSLOT', s, 'NODE', ids.get(toPort)!);
      await cli(fromPort, 'CLUSTER', 'SETSLOT', s, 'NODE', ids.get(toPort)!);
      for (const port of ports) if (port !== toPort && port !== fromPort) await cli(port, 'CLUSTER', 'SETSLOT', s, 'NODE', ids.get(toPort)!);
    },
    destroy,
  };
}

/** Whether a `CLUSTER NODES` line lists `slot` among its ranges. */
function ownsSlot(line: string, slot: number): boolean {
  return line
    .split(' ')
    .slice(8)
    .some((range) => {
      const [a, b] = range.split('-').map(Number);
      return a !== undefined && slot >= a && slot <= (b ?? a);
    });
}

export interface TestSentinelSet {
  /** `127.0.0.1:port` of each sentinel. */
  sentinels: string[];
  name: string;
  primaryPort: number;
  replicaPort: number;
  /** The port sentinels name as primary now. */
  currentPrimary(): Promise<number>;
  /** SIGKILL the server on `port` (no save, no goodbye). */
  kill(port: number): void;
  destroy(): Promise<void>;
}

/** A primary, one replica and three sentinels (`redis-server --sentinel`), with a quick failover (1 s down-after). */
export async function startSentinelSet(name = 'tidings'): Promise<TestSentinelSet> {
  const procs: ServerProcess[] = [];
  const destroy = async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    for (const p of procs) rmSync(p.dir, { recursive: true, force: true });
  };
  const sentinelPorts: number[] = [];
  let primaryPort = 0;
  let replicaPort = 0;
  try {
    primaryPort = await freePort();
    procs.push(await spawnServer([], primaryPort, mkdtempSync(join(tmpdir(), 'tidings-primary-'))));
    replicaPort = await freePort();
    procs.push(await spawnServer(['--replicaof', '127.0.0.1', String(primaryPort)], replicaPort, mkdtempSync(join(tmpdir(), 'tidings-replica-'))));
    await until('replica in sync', async () => (await cli(replicaPort, 'INFO', 'replication')).includes('master_link_status:up'));
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'tidings-sentinel-'));
      const conf = join(dir, 'sentinel.conf');
      writeFileSync(
        conf,
        [
          `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 2`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 5000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      if (!REDIS_BIN) throw new Error('redis-server is required');
      const child = spawn(REDIS_BIN, [conf, '--sentinel', '--port', String(port), '--bind', '127.0.0.1', '--dir', dir], { stdio: 'ignore' });
      procs.push({ port, child, dir });
      await waitForPort(port, true);
      sentinelPorts.push(port);
    }
    for (const port of sentinelPorts) {
      await until('sentinels agree on a quorum', async () => (await cli(port, 'SENTINEL', 'CKQUORUM', name)).startsWith('OK 3'));
      await until('sentinels see the replica', async () => (await cli(port, 'SENTINEL', 'REPLICAS', name)).includes(String(replicaPort)));
    }
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    sentinels: sentinelPorts.map((p) => `127.0.0.1:${p}`),
    name,
    primaryPort,
    replicaPort,
    async currentPrimary() {
      const out = await cli(sentinelPorts[0]!, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name);
      return Number(out.split('\n')[1]);
    },
    kill(port) {
      procs.find((p) => p.port === port)?.child.kill('SIGKILL');
    },
    destroy,
  };
}
