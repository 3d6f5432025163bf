/**
 * The embedded history (engine/broker-memory-stream.ts) keeps each entry as
 * its text's UTF-8 bytes in a ring buffer plus typed-array fields, and
 * rebuilds publications on read. Held
 * to a plain array of the publications appended: for any appends (with and
 * without info, any JSON data), size and age limits and reads, what comes
 * back is what went in, field for field, and its cached frame is the text a
 * fresh encoding gives. Three streams share one arena and take turns, so a
 * block one of them still uses being handed to the other shows up as a
 * wrong read.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ServerPublication } from '../packages/server/src/engine/broker.js';
import { HistoryArena } from '../packages/server/src/engine/broker-memory-arena.js';
import { MemoryStream } from '../packages/server/src/engine/broker-memory-stream.js';
import { publicationText } from '../packages/server/src/engine/publication-text.js';

/** Any JSON, text in any script (multi-byte UTF-8), and entries big enough to wrap and grow the byte ring. */
const payload = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', minLength: 500, maxLength: 3000 }),
);

const step = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), which: fc.integer({ min: 0, max: 2 }), data: payload, info: fc.option(fc.record({ user: fc.string({ maxLength: 8 }), client: fc.string({ maxLength: 8 }) }), { nil: undefined }), dt: fc.integer({ min: 0, max: 400 }) }),
  fc.record({ kind: fc.constant('read' as const), which: fc.integer({ min: 0, max: 2 }), since: fc.integer({ min: 0, max: 60 }), limit: fc.integer({ min: 0, max: 30 }) }),
);

describe('MemoryStream', () => {
  it('gives back what was appended, within the size and age limits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 100, max: 3000 }), fc.array(step, { maxLength: 80 }), (size, ttlMs, steps) => {
        const arena = new HistoryArena();
        const streams = [new MemoryStream('ep1', arena), new MemoryStream('ep2', arena), new MemoryStream('ep3', arena)];
        const models: ServerPublication[][] = [[], [], []];
        let now = 1_000_000;
        for (const s of steps) {
          const stream = streams[s.which]!;
          const model = models[s.which]!;
          const channel = `jobs:${s.which}`;
          const epoch = `ep${s.which + 1}`;
          if (s.kind === 'append') {
            now += s.dt;
            const pub: ServerPublication = { channel, offset: stream.top + 1, epoch, data: JSON.stringify(s.data), time: now };
            if (s.info) pub.info = s.info;
            stream.append(pub, { size, ttlMs }, now);
            model.push({ ...pub, encoded: undefined });
            while (model.length > size) model.shift();
            for (const m of models) while (m.length > 0 && m[0]!.time < now - ttlMs) m.shift();
            // The other stream's expired entries go when it is next used (the broker's sweep), so trim it too.
            for (const other of streams) other.trimAge(now - ttlMs);
            expect(pub.encoded).toBe(publicationText({ ...pub, encoded: undefined }));
          } else {
            const got = stream.after(channel, s.since, s.limit);
            const want = model.filter((p) => p.offset > s.since).slice(0, s.limit);
            expect(got.map(({ encoded: _e, ...p }) => p)).toEqual(want.map(({ encoded: _e, ...p }) => p));
            for (const p of got) expect(p.encoded).toBe(publicationText({ ...p, encoded: undefined }));
          }
          for (const [i, other] of streams.entries()) expect(other.size).toBe(models[i]!.length);
        }
      }),
      { numRuns: 300 },
    );
  });
});
