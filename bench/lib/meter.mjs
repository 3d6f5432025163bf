/**
 * CPU use over a window, in % of one core: the server under test, the
 * generator, and everything else on the machine ("other": other processes,
 * kernel work not charged to either). A high "other" means the step was
 * disturbed by something outside the benchmark.
 */
import { machineCpuMs, selfCpuMs, sleep, waitQuiet } from './sys.mjs';

export function startMeter(server) {
  const s0 = server.stats();
  // A server on an engine process (Redis) also reports that process's CPU, apart from its own.
  const r0 = server.engineStats?.();
  const g0 = selfCpuMs();
  const all0 = machineCpuMs();
  const t0 = performance.now();
  return () => {
    const seconds = (performance.now() - t0) / 1000;
    const s1 = server.stats();
    const serverMs = s1.cpuMs - s0.cpuMs;
    const genMs = selfCpuMs() - g0;
    const engineMs = r0 ? server.engineStats().cpuMs - r0.cpuMs : 0;
    return {
      seconds,
      serverCpu: Math.round(serverMs / 10 / seconds),
      engineCpu: r0 ? Math.round(engineMs / seconds) / 10 : undefined, // one decimal: Redis is often below 1 %
      genCpu: Math.round(genMs / 10 / seconds),
      otherCpu: Math.max(0, Math.round((machineCpuMs() - all0 - serverMs - genMs - engineMs) / 10 / seconds)),
      serverRss: s1.rss,
    };
  };
}

/** Other load above this (% of a core) during a step means the step was disturbed. */
export const DISTURBED = 10;

/**
 * Run a measurement step. A failed step is confirmed by running it once more
 * (after waiting, bounded, for quiet if something else loaded the machine):
 * on a shared VM a single scheduling hiccup can push a p99 past the limit.
 */
export async function measureStep(run, { quietWaitMs = 30_000, settleMs = 2000, log = () => {} } = {}) {
  const row = await run();
  if (row.ok) return row;
  log(`  step failed (p99 ${row.p99} ms, lost ${row.lost}, other load ${row.otherCpu}%): confirming`);
  await sleep(settleMs); // let stragglers of the failed step arrive before counting again
  if (row.otherCpu > DISTURBED) await waitQuiet({ log, timeoutMs: quietWaitMs });
  return { ...(await run()), retried: true };
}

/**
 * A rate ladder: one short warm-up step (JIT, not kept), then `runAt(level)`
 * for each level, each confirmed by measureStep, until one fails. Then
 * `refine` bisection steps between the last level that passed and the one
 * that failed (geometric midpoints, rounded to 100): with steps ×2 apart, a
 * ceiling read from the ladder alone is only known to within a factor of 2,
 * and a ratio of two such ceilings reads 0.5 or 1.0 whatever the truth.
 * Returns the rows (by level) and the highest rate delivered by a passing step.
 */
export async function climbLadder(levels, runAt, { name, unit, refine = 0, ...opts }) {
  await runAt(levels[0], 1);
  const rows = [];
  const measure = async (level, refined = false) => {
    const row = await measureStep(() => runAt(level), opts);
    if (refined) row.refined = true;
    rows.push(row);
    opts.log(`  ${name} ${level.toLocaleString('en-US')}${unit}: p99 ${row.p99} ms, lost ${row.lost}, server ${row.serverCpu}% gen ${row.genCpu}% other ${row.otherCpu}%${row.refined ? ' (bisection)' : ''}`);
    return row;
  };
  let passed = 0;
  let failed = 0;
  for (const level of levels) {
    if ((await measure(level)).ok) passed = level;
    else {
      failed = level;
      break;
    }
  }
  for (let i = 0; i < refine && passed > 0 && failed > 0; i++) {
    const mid = Math.round(Math.sqrt(passed * failed) / 100) * 100;
    if (mid <= passed || mid >= failed) break;
    const row = await measure(mid, true);
    if (row.ok) passed = mid;
    else failed = mid;
  }
  rows.sort((a, b) => a.offered - b.offered);
  const ok = rows.filter((r) => r.ok);
  return { rows, maxSustained: ok.length ? Math.max(...ok.map((r) => r.achieved)) : 0 };
}

/** A step's verdict for the tables: ok or FAIL, and which steps were bisection steps. */
export function verdictOf(step) {
  return `${step.ok ? 'ok' : 'FAIL'}${step.refined ? ' (bisection)' : ''}`;
}
