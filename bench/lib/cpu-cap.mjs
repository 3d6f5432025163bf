/**
 * A CPU budget for one process (a CFS quota in its own cgroup), so that
 * several gateway nodes on this small machine each get the same slice, as if
 * each ran on a machine of its own. Needs root and a writable cgroup cpu
 * controller (v1 `cpu` or v2 `cpu.max`); where there is none, `capCpu`
 * returns null and the caller says the figures are uncapped.
 */
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A short period keeps throttling stalls short (a 100 ms period would add up to 70 ms of latency at a 30 % cap). */
const PERIOD_US = 10_000;
const V1 = '/sys/fs/cgroup/cpu';
const V2 = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'];

let serial = 0;

/** Limit `pid` to `cores` of CPU time (0.3 = 30 % of one core). Returns a handle, or null if this machine cannot. */
export function capCpu(pid, cores) {
  const quota = String(Math.max(1000, Math.round(cores * PERIOD_US)));
  const name = `tidings-bench-${process.pid}-${serial++}`;
  const attempts = [
    () => v1(join(V1, name), pid, quota),
    ...V2.map((root) => () => v2(join(root, name), pid, quota)),
  ];
  for (const attempt of attempts) {
    const dir = attempt();
    if (dir) return { cores, release: () => release(dir) };
  }
  return null;
}

function v1(dir, pid, quota) {
  if (!existsSync(join(V1, 'cpu.cfs_quota_us'))) return null;
  return tryGroup(dir, () => {
    writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
    writeFileSync(join(dir, 'cpu.cfs_quota_us'), quota);
    writeFileSync(join(dir, 'cgroup.procs'), String(pid));
  });
}

function v2(dir, pid, quota) {
  return tryGroup(dir, () => {
    writeFileSync(join(dir, 'cpu.max'), `${quota} ${PERIOD_US}`);
    writeFileSync(join(dir, 'cgroup.procs'), String(pid));
  });
}

function tryGroup(dir, setup) {
  try {
    mkdirSync(dir);
  } catch {
    return null;
  }
  try {
    setup();
    return dir;
  } catch {
    release(dir);
    return null;
  }
}

/** Remove the group once its process has exited (a group with members cannot be removed; then it stays, harmless). */
function release(dir) {
  try {
    rmdirSync(dir);
  } catch {}
}
