import fc from 'fast-check';
import { expect, it } from 'vitest';
import { Bag } from '../packages/server/dist/hub/bag.js';

it('behaves like a Set under any sequence of adds and deletes', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 4 })), { maxLength: 60 }), (ops) => {
      const bag = new Bag<number>();
      const model = new Set<number>();
      for (const [add, v] of ops) {
        if (add) (bag.add(v), model.add(v));
        else expect(bag.delete(v)).toBe(model.delete(v));
        expect(bag.size).toBe(model.size);
        expect(bag.toArray().sort()).toEqual([...model].sort());
        expect(bag.one !== undefined && bag.many !== undefined).toBe(false);
      }
    }),
  );
});
