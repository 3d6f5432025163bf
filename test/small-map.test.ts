import fc from 'fast-check';
import { expect, it } from 'vitest';
import { SmallMap } from '../packages/server/dist/session/small-map.js';

it('behaves like a Map under any sequence of sets, deletes and reads, across the flat/Map switch', () => {
  const op = fc.tuple(fc.constantFrom('set', 'delete', 'get', 'has'), fc.integer({ min: 0, max: 14 }), fc.option(fc.integer(), { nil: null }));
  fc.assert(
    fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
      const small = new SmallMap<number | null>();
      const model = new Map<string, number | null>();
      for (const [kind, k, v] of ops) {
        const key = `ch:${k}`;
        if (kind === 'set') (small.set(key, v), model.set(key, v));
        else if (kind === 'delete') expect(small.delete(key)).toBe(model.delete(key));
        else if (kind === 'get') expect(small.get(key)).toBe(model.get(key));
        else expect(small.has(key)).toBe(model.has(key));
        expect(small.size).toBe(model.size);
        expect(small.keys().sort()).toEqual([...model.keys()].sort());
      }
    }),
  );
});

it('keys() is a snapshot: deleting while walking it visits every key once', () => {
  const m = new SmallMap<number>();
  for (let i = 0; i < 20; i++) m.set(`k${i}`, i);
  const seen: string[] = [];
  for (const k of m.keys()) (seen.push(k), m.delete(k));
  expect(seen).toHaveLength(20);
  expect(m.size).toBe(0);
});
