/** Delta compression (protocol delta.ts): applying the deltas reproduces every publication exactly. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError, applyDelta, canonicalJson, makeDelta } from '@tidings/protocol';

describe('text deltas', () => {
  it('rebuild any text from any other', () => {
    const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.string({ unit: fc.constantFrom('a', 'b', '{', '"'), maxLength: 200 }));
    fc.assert(
      fc.property(text, text, (base, next) => {
        const d = makeDelta(base, next);
        expect(applyDelta(base, d)).toBe(next);
        expect(applyDelta(base, JSON.parse(JSON.stringify(d)))).toBe(next); // also through the wire
      }),
      { numRuns: 1000 },
    );
  });

  it('rebuild a text from a few edits of it with the fewest edits', () => {
    const splice = fc.record({ at: fc.nat(), drop: fc.nat({ max: 6 }), put: fc.string({ maxLength: 6 }) });
    fc.assert(
      fc.property(fc.string({ minLength: 20, maxLength: 300 }), fc.array(splice, { minLength: 1, maxLength: 3 }), (base, splices) => {
        let next = base;
        for (const { at, drop, put } of splices) {
          const i = at % (next.length + 1);
          next = next.slice(0, i) + put + next.slice(i + drop);
        }
        const d = makeDelta(base, next);
        expect(applyDelta(base, d)).toBe(next);
        // The fewest edits: never more units skipped and inserted than the splices dropped and put.
        const edited = d.reduce<number>((sum, op) => sum + (typeof op === 'string' ? op.length : op < 0 ? -op : 0), 0);
        expect(edited).toBeLessThanOrEqual(splices.reduce((sum, s) => sum + s.drop + s.put.length, 0));
      }),
      { numRuns: 1000 },
    );
  });

  it('reproduce every publication of a stream of JSON values, through the wire form', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue({ maxDepth: 4 }), { minLength: 1, maxLength: 12 }), (values) => {
        // The server's side: deltas between canonical texts of the stored JSON.
        const texts = values.map((v) => canonicalJson(JSON.parse(JSON.stringify(v))));
        const wire = texts.slice(1).map((t, i) => JSON.stringify(makeDelta(texts[i]!, t)));
        // The client's side: the first in full, then each delta on the text it rebuilt last.
        let base = canonicalJson(JSON.parse(texts[0]!));
        const seen = [JSON.parse(base)];
        for (const w of wire) {
          base = applyDelta(base, JSON.parse(w));
          seen.push(JSON.parse(base));
        }
        expect(seen).toEqual(texts.map((t) => JSON.parse(t)));
      }),
      { numRuns: 500 },
    );
  });

  it('shrink a growing transcript and a job status to a small part of the full text', () => {
    const lines = Array.from({ length: 20 }, (_, i) => ({ speaker: i % 2 ? 'Ana' : 'Ben', text: `line ${i} of the meeting, said slowly` }));
    const a = canonicalJson({ lines: lines.slice(0, 19) });
    const b = canonicalJson({ lines });
    expect(JSON.stringify(makeDelta(a, b)).length).toBeLessThan(b.length / 10);
    const s1 = canonicalJson({ job: 'j-1', state: 'running', progress: 41, step: 'encode', eta: 120 });
    const s2 = canonicalJson({ job: 'j-1', state: 'running', progress: 42, step: 'encode', eta: 118 });
    expect(JSON.stringify(makeDelta(s1, s2)).length).toBeLessThan(s2.length / 2);
  });

  it('refuse, with a ProtocolError, any delta that does not fit its base', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.jsonValue(), (base, delta) => {
        try {
          const out = applyDelta(base, delta);
          expect(typeof out).toBe('string');
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError);
        }
      }),
    );
    expect(() => applyDelta('abc', [2, 2])).toThrow(ProtocolError); // past the end
    expect(() => applyDelta('abc', [2])).toThrow(ProtocolError); // short of the end
    expect(() => applyDelta('abc', [1.5, 'x'])).toThrow(ProtocolError);
    expect(() => applyDelta('abc', 'abc')).toThrow(ProtocolError);
    expect(applyDelta('abc', [1, -1, 'X', 1])).toBe('aXc');
  });
});
