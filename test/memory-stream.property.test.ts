/**
 * The embedded history (engine/broker-memory-stream.ts) keeps each entry as
 * its text's UTF-8 bytes in a ring buffer plus typed-array fields, and
 * rebuilds publications on read. Held
 * to a plain array of the publications appended: for any appends (with and
 * without info, any JSON data), size and age limits and reads, what comes
 * back is what went in, field for field, and its cached frame is the text a
 * fresh encoding gives.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ServerPublication } from '../packages/server/src/engine/broker.js';
import { MemoryStream } from '../packages/server/src/engine/broker-memory-stream.js';
import { publicationText } from '../packages/server/src/engine/publication-text.js';

/** Any JSON, text in any script (multi-byte UTF-8), and entries big enough to wrap and grow the byte ring. */
const payload = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', minLength: 500, maxLength: 3000 }),
);

const step = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), data: payload, info: fc.option(fc.record({ user: fc.string({ maxLength: 8 }), client: fc.string({ maxLength: 8 }) }), { nil: undefined }), dt: fc.integer({ min: 0, max: 400 }) }),
  fc.record({ kind: fc.constant('read' as const), since: fc.integer({ min: 0, max: 60 }), limit: fc.integer({ min: 0, max: 30 }) }),
);

describe('MemoryStream', () => {
  it('gives back what was appended, within the size and age limits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 100, max: 3000 }), fc.array(step, { maxLength: 80 }), (size, ttlMs, steps) => {
        const stream = new MemoryStream('ep1');
        const model: ServerPublication[] = [];
        let now = 1_000_000;
        for (const s of steps) {
          if (s.kind === 'append') {
            now += s.dt;
            const pub: ServerPublication = { channel: 'jobs:1', offset: stream.top + 1, epoch: 'ep1', data: JSON.stringify(s.data), time: now };
            if (s.info) pub.info = s.info;
            stream.append(pub, { size, ttlMs }, now);
            model.push({ ...pub, encoded: undefined });
            while (model.length > size) model.shift();
            while (model.length > 0 && model[0]!.time < now - ttlMs) model.shift();
            expect(pub.encoded).toBe(publicationText({ ...pub, encoded: undefined }));
          } else {
            const got = stream.after('jobs:1', s.since, s.limit);
            const want = model.filter((p) => p.offset > s.since).slice(0, s.limit);
            expect(got.map(({ encoded: _e, ...p }) => p)).toEqual(want.map(({ encoded: _e, ...p }) => p));
            for (const p of got) expect(p.encoded).toBe(publicationText({ ...p, encoded: undefined }));
          }
          expect(stream.size).toBe(model.length);
        }
      }),
      { numRuns: 300 },
    );
  });
});
