/**
 * The issue-15 targets table (bench/report/targets.mjs): each row computed
 * from one run's results, "not measured" when a side is missing, and the
 * batch row quoting the host's write floor (bench/scenarios/write-floor.mjs)
 * as a ceiling and as a multiple of ws's single-publish figure.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM without types (the bench workspace is JavaScript)
import { checkTargets15 } from '../bench/report/targets.mjs';

interface Row {
  target: string;
  measured: string;
  verdict: string;
}

const run = (batch: number, ws: number, floor?: number) => ({
  channels: { servers: { tidings: { maxSustained: 45_000 }, ws: { maxSustained: ws } } },
  channelsbatch: { servers: { tidings: { maxSustained: batch } } },
  ...(floor === undefined ? {} : { writefloor: { servers: { host: { ceiling: floor, usPerWrite: 1e6 / floor } } } }),
});

const batchRow = (results: object): Row => (checkTargets15(results) as Row[]).find((r) => r.target.startsWith('many channels, batch'))!;

describe('issue 15 targets', () => {
  it('judges the batch row by 5× ws and quotes the write floor beside it', () => {
    const row = batchRow(run(45_000, 38_000, 176_000));
    expect(row.verdict).toBe('NOT MET');
    expect(row.measured).toContain('45,000 vs 38,000 pub/s (1.18×)');
    expect(row.measured).toContain("write floor allows at most 176,000 pub/s on one core (4.63× ws)");
  });

  it('meets the batch target at 5× whatever the floor says', () => {
    expect(batchRow(run(200_000, 40_000, 176_000)).verdict).toBe('met');
  });

  it('leaves the floor out when it was not measured, and says what is missing', () => {
    expect(batchRow(run(45_000, 38_000)).measured).not.toContain('write floor');
    const rows = checkTargets15({}) as Row[];
    expect(rows.every((r) => r.verdict === 'not measured')).toBe(true);
    expect(rows[0]!.measured).toContain('channelsbatch/tidings not measured');
  });
});
