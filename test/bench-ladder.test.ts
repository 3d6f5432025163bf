/**
 * The benchmarks' rate ladder (bench/lib/meter.mjs): the climb stops at the
 * first failed level (confirmed once), and the bisection steps after it
 * narrow the ceiling between the last pass and that failure. Driven by a
 * fake server whose true ceiling is known, so the reported ceiling can be
 * checked against it.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM without types (the bench workspace is JavaScript)
import { climbLadder, verdictOf } from '../bench/lib/meter.mjs';

interface Row {
  offered: number;
  achieved: number;
  ok: boolean;
  p99: number;
  lost: number;
  serverCpu: number;
  genCpu: number;
  otherCpu: number;
  refined?: boolean;
}

/** A server that passes every rate up to `ceiling`, and records what it was asked for. */
function fakeServer(ceiling: number) {
  const asked: number[] = [];
  const runAt = async (level: number, seconds?: number): Promise<Row> => {
    if (seconds === undefined) asked.push(level);
    const ok = level <= ceiling;
    return { offered: level, achieved: ok ? level : ceiling, ok, p99: ok ? 5 : 500, lost: 0, serverCpu: 50, genCpu: 20, otherCpu: 0 };
  };
  return { asked, runAt };
}

const LEVELS = [1000, 2000, 4000, 8000, 16000, 32000];
const opts = (refine: number) => ({ name: 'fake', unit: '/s', refine, settleMs: 0, log: () => {} });

describe('climbLadder', () => {
  it('without bisection knows the ceiling only to the ladder step', async () => {
    const server = fakeServer(26_000);
    const { rows, maxSustained } = await climbLadder(LEVELS, server.runAt, opts(0));
    expect(maxSustained).toBe(16_000);
    // The failed level is run twice (measureStep confirms a failure), then the climb stops.
    expect(server.asked).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 32000]);
    expect(rows.map((r: Row) => verdictOf(r))).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'FAIL']);
  });

  it('bisects between the last pass and the first failure, and reports rows by level', async () => {
    const server = fakeServer(26_000);
    const { rows, maxSustained } = await climbLadder(LEVELS, server.runAt, opts(3));
    // 16k..32k: √(16k·32k) ≈ 22.6k passes, √(22.6k·32k) ≈ 26.9k fails, √(22.6k·26.9k) ≈ 24.7k passes.
    expect(maxSustained).toBe(24_700);
    expect(rows.map((r: Row) => r.offered)).toEqual([1000, 2000, 4000, 8000, 16000, 22600, 24700, 26900, 32000]);
    expect(rows.filter((r: Row) => r.refined).map((r: Row) => verdictOf(r))).toEqual(['ok (bisection)', 'ok (bisection)', 'FAIL (bisection)']);
    expect(26_000 / maxSustained).toBeLessThan(1.1);
  });

  it('does not bisect when the first level fails or nothing fails', async () => {
    const low = fakeServer(500);
    expect((await climbLadder(LEVELS, low.runAt, opts(2))).maxSustained).toBe(0);
    expect(low.asked).toEqual([1000, 1000]);
    const high = fakeServer(1e9);
    const { rows, maxSustained } = await climbLadder(LEVELS, high.runAt, opts(2));
    expect(maxSustained).toBe(32_000);
    expect(rows).toHaveLength(LEVELS.length);
  });
});
