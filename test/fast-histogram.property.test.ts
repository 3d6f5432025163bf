/**
 * The allocation-free histogram of the message path (http/fast-histogram.ts)
 * must read on /metrics exactly as prom-client's own Histogram does for the
 * same observations: same bucket lines, sum and count.
 */
import fc from 'fast-check';
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastHistogram } from '../packages/server/src/http/fast-histogram.js';

const BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

describe('FastHistogram', () => {
  it('exports what prom-client exports for the same observations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.double({ min: 0, max: 10, noNaN: true }), fc.constantFrom(...BOUNDS)), { maxLength: 200 }), async (values) => {
        const ours = new Registry();
        const theirs = new Registry();
        const fast = new FastHistogram('x_seconds', 'help text', BOUNDS, ours);
        const reference = new Histogram({ name: 'x_seconds', help: 'help text', buckets: BOUNDS, registers: [theirs] });
        for (const v of values) {
          fast.observe(v);
          reference.observe(v);
        }
        expect(await ours.metrics()).toBe(await theirs.metrics());
        fast.reset();
        reference.reset();
        expect(await ours.metrics()).toBe(await theirs.metrics());
      }),
      { numRuns: 200 },
    );
  });
});
