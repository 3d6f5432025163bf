/** Process and OS helpers: CPU pinning, /proc readings, limits, bounded waits. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Pin every thread of `pid` to `cpu` (taskset -a). Returns false where taskset is missing. */
export function pin(pid, cpu) {
  try {
    execFileSync('taskset', ['-a', '-cp', String(cpu), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Soft limit on open files for this process (children inherit it). */
export function nofileLimit() {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.trim().split(/\s+/)[3];
  return soft === 'unlimited' ? Infinity : Number(soft);
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU time (user + system, ms) and RSS (bytes) of another process, from /proc. */
export function procStats(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuMs = (Number(fields[11]) + Number(fields[12])) * TICK_MS;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuMs, rss: rssKb * 1024 };
  } catch {
    return { cpuMs: 0, rss: 0 };
  }
}

/** CPU time (ms) used by the whole machine so far, all cores, from /proc/stat. */
export function machineCpuMs() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + f[4];
  return (f.slice(0, 8).reduce((a, b) => a + b, 0) - idle) * TICK_MS;
}

/** This process's CPU time in ms. */
export function selfCpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Poll `check` until it returns truthy or `timeoutMs` passes; returns the last value. */
export async function waitFor(check, timeoutMs, everyMs = 20) {
  const deadline = performance.now() + timeoutMs;
  let v = await check();
  while (!v && performance.now() < deadline) {
    await sleep(everyMs);
    v = await check();
  }
  return v;
}

export async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * Client source addresses, 127.0.0.2 … 127.0.0.41, handed out round-robin so
 * each gets a share of ephemeral ports (28k per address and destination) and
 * TIME_WAIT from earlier scenarios never exhausts one.
 */
const SOURCES = Array.from({ length: 40 }, (_, i) => `127.0.0.${i + 2}`);
let nextSource = 0;
export function sourceAddress() {
  nextSource = (nextSource + 1) % SOURCES.length;
  return SOURCES[nextSource];
}

/**
 * This box is shared: wait (bounded) until the rest of the machine is nearly
 * idle before starting a measurement. Returns the busy share seen last, in %
 * of one core.
 */
export async function waitQuiet({ maxBusy = 15, timeoutMs = 60_000, log = () => {} } = {}) {
  const deadline = performance.now() + timeoutMs;
  let busy = Infinity;
  let waited = false;
  while (performance.now() < deadline) {
    const a = machineCpuMs() - selfCpuMs();
    await sleep(1000);
    busy = Math.round((machineCpuMs() - selfCpuMs() - a) / 10);
    if (busy <= maxBusy) break;
    if (!waited) log(`  waiting for a quiet machine (others use ${busy}% of a core)`);
    waited = true;
  }
  if (waited) log(`  ${busy <= maxBusy ? 'quiet now' : `still busy (${busy}%), going on`}`);
  return busy;
}
