/**
 * The V8 settings of `tidings serve` (cli/v8-settings.ts), each unless node
 * was started with its own choice.
 *
 * Heap growth: the old generation grows to 3× what a full collection kept,
 * unless node has its own `--heap-growing-percent`. Checked where the setting shows: in a child
 * process that keeps ~43 MB, then makes garbage that lives long enough to be
 * promoted, the old generation reaches about 3× what it kept before the next
 * full collection (V8's own factor varies with how fast its collections run,
 * so only the setting's fixed factor is asserted).
 *
 * Pretenuring off: what it prevents (young collections slowed tenfold) is
 * measured in bench/RESULTS.md; here, node's own flag wins, and this node's
 * V8 takes the flag (it prints "unrecognized flag" for one it does not know).
 *
 * Tier-up budget: what it buys (a cold node's CPU per connect in a storm) is
 * measured in bench/RESULTS.md; here, node's own flag wins, and set after
 * start it takes effect: a function is marked for optimizing after about a
 * quarter of the calls it takes with V8's default (a count, not a time).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { setHeapGrowth, setTierUpBudget, turnOffPretenuring } from '../packages/server/src/cli/v8-settings.js';

const DIST = new URL('../packages/server/dist/cli/v8-settings.js', import.meta.url).href;

const SCRIPT = `
const { setHeapGrowth } = await import(${JSON.stringify(DIST)});
setHeapGrowth(process.execArgv);
const { getHeapSpaceStatistics } = await import('node:v8');
const { PerformanceObserver } = await import('node:perf_hooks');
globalThis.keep = Array.from({ length: 80 }, () => Array.from({ length: 12500 }, (x, i) => ({ i })));
gc();
const old = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_used_size;
let majors = 0;
new PerformanceObserver((list) => { for (const e of list.getEntries()) if (e.detail?.kind === 4) majors++; }).observe({ entryTypes: ['gc'] });
await new Promise((r) => setTimeout(r, 50)); // the observer hears of gc() a tick late
majors = 0;
const kept = old();
let peak = kept;
const hold = [];
for (let i = 0; i < 6000 && majors === 0; i++) {
  hold.push(Array.from({ length: 2500 }, (x, j) => ({ j })));
  if (hold.length > 200) hold.shift();
  peak = Math.max(peak, old());
  await new Promise((r) => setImmediate(r));
}
console.log(JSON.stringify({ ratio: peak / kept, majors }));
`;

/** How far old space grew, relative to what a full collection kept, before the next full collection. */
function growthBeforeFullCollection(nodeFlags: string[]): number {
  const out = execFileSync(process.execPath, ['--expose-gc', ...nodeFlags, '--input-type=module', '-e', SCRIPT], { encoding: 'utf8', timeout: 90_000 });
  const { ratio, majors } = JSON.parse(out.trim().split('\n').at(-1)!) as { ratio: number; majors: number };
  expect(majors).toBe(1);
  return ratio;
}

describe('heap growth for tidings serve', () => {
  it('is applied unless node was started with its own --heap-growing-percent', () => {
    expect(setHeapGrowth(['--heap-growing-percent=50'])).toBe(false);
    expect(setHeapGrowth(['--heap_growing_percent=50'])).toBe(false);
    expect(setHeapGrowth(['--max-old-space-size=4096'])).toBe(true);
  });

  it('lets the old generation reach about 3× what was kept, or what node was told instead', () => {
    const ours = growthBeforeFullCollection([]);
    expect(ours).toBeGreaterThan(2.6);
    expect(ours).toBeLessThan(3.8);
    const theirs = growthBeforeFullCollection(['--heap-growing-percent=50']);
    expect(theirs).toBeGreaterThan(1.3);
    expect(theirs).toBeLessThan(2.1);
  }, 120_000);
});

describe('pretenuring for tidings serve', () => {
  it('is left to node when its flags choose', () => {
    expect(turnOffPretenuring(['--allocation-site-pretenuring'])).toBe(false);
    expect(turnOffPretenuring(['--no-allocation-site-pretenuring'])).toBe(false);
    expect(turnOffPretenuring(['--no-allocation_site_pretenuring'])).toBe(false);
  });

  it('is turned off otherwise, with a flag this V8 knows', () => {
    const script = `const { turnOffPretenuring } = await import(${JSON.stringify(DIST)}); console.log(turnOffPretenuring(process.execArgv));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('true');
  });
});

/** Calls of a small function until V8 marks it for optimizing (or has), in a fresh node, with the budget set after start or not. */
function callsUntilMarked(set: boolean, nodeFlags: string[] = []): number {
  const script = `
const { setTierUpBudget } = await import(${JSON.stringify(DIST)});
if (${set}) setTierUpBudget(process.execArgv);
function work(a) { let s = 0; for (let i = 0; i < 20; i++) s += (a * i) % 7; return s; }
// %GetOptimizationStatus bits: optimized, marked for optimization, marked for concurrent optimization, optimizing concurrently.
const MARKED = (1 << 4) | (1 << 8) | (1 << 9) | (1 << 10);
let calls = 0;
while (calls < 100000 && (eval('%GetOptimizationStatus(work)') & MARKED) === 0) work(calls++);
console.log(calls);`;
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', ...nodeFlags, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  expect(r.stderr).toBe('');
  return Number(r.stdout.trim());
}

describe('tier-up budget for tidings serve', () => {
  it('is left to node when its flags choose', () => {
    expect(setTierUpBudget(['--interrupt-budget=100000'])).toBe(false);
    expect(setTierUpBudget(['--interrupt_budget=100000'])).toBe(false);
  });

  it('set after start, has functions marked for optimizing after about a quarter of the calls', () => {
    const defaults = callsUntilMarked(false);
    const ours = callsUntilMarked(true);
    expect(defaults).toBeGreaterThan(20);
    expect(defaults).toBeLessThan(100000);
    expect(ours).toBeGreaterThan(0);
    expect(ours / defaults).toBeLessThan(0.4);
    // Node's own budget wins over ours.
    expect(callsUntilMarked(true, ['--interrupt-budget=67584'])).toBe(defaults);
  });
});
