/**
 * The history's arena (engine/broker-memory-arena.ts) hands out blocks of
 * shared slabs. For any sequence of takes and releases: no two views held at
 * once share a byte (each is filled with its own mark and must still hold it),
 * sizes are what was asked, the bytes counted as held are the blocks out, and
 * once everything is back and the arena trimmed, one region is kept. Regions
 * of 4 MiB here, so the runs use several.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HistoryArena } from '../packages/server/src/engine/broker-memory-arena.js';

const SLAB = 1 << 20;
const REGION = 4 * SLAB;

const op = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('bytes' as const), size: fc.oneof(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 5000, max: 1_300_000 })) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('floats' as const), count: fc.integer({ min: 1, max: 9000 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
);

function blockOf(bytes: number): number {
  return 2 ** Math.max(10, Math.ceil(Math.log2(bytes)));
}

describe('HistoryArena', () => {
  it('never hands out overlapping blocks and gives slabs back', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const arena = new HistoryArena(REGION);
        const held: { view: Buffer | Float64Array; mark: number }[] = [];
        let marks = 0;
        const bytesOf = (v: Buffer | Float64Array) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
        for (const o of ops) {
          if (o.kind === 'release') {
            if (held.length === 0) continue;
            const [gone] = held.splice(o.pick % held.length, 1);
            arena.release(gone!.view);
          } else {
            const view = o.kind === 'bytes' ? arena.bytes(o.size) : arena.floats(o.count);
            if (o.kind === 'bytes') expect(view.byteLength).toBe(blockOf(o.size));
            else expect(view.length).toBe(o.count);
            const mark = ++marks % 251;
            bytesOf(view).fill(mark);
            held.push({ view, mark });
          }
          for (const h of held) expect(bytesOf(h.view).every((b) => b === h.mark)).toBe(true);
          expect(arena.usage.held).toBe(held.reduce((n, h) => n + blockOf(h.view.byteLength), 0));
        }
        for (const h of held.splice(0)) arena.release(h.view);
        expect(arena.usage.held).toBe(0);
        arena.trim();
        expect(arena.usage.reserved).toBeLessThanOrEqual(REGION);
      }),
      { numRuns: 100 },
    );
  });

  it('reuses a block given back instead of growing', () => {
    const arena = new HistoryArena(REGION);
    const first = arena.bytes(3000);
    arena.release(first);
    const again = arena.bytes(4096);
    expect(again.buffer).toBe(first.buffer);
    expect(again.byteOffset).toBe(first.byteOffset);
    expect(arena.usage.reserved).toBe(REGION);
  });

  it('asks for a region only when the ones it has are full, and trims the empty ones', () => {
    const arena = new HistoryArena(REGION);
    const views = Array.from({ length: 5 }, () => arena.bytes(SLAB));
    expect(arena.usage.reserved).toBe(2 * REGION);
    expect(new Set(views.map((v) => v.buffer)).size).toBe(2);
    for (const v of views) arena.release(v);
    arena.trim();
    expect(arena.usage).toEqual({ held: 0, reserved: REGION });
  });

  it('refuses a block that is not out', () => {
    const arena = new HistoryArena();
    const view = arena.floats(100);
    arena.release(view);
    expect(() => arena.release(view)).toThrow(/not out/);
    expect(() => arena.release(Buffer.alloc(10))).toThrow(/not out/);
    const large = arena.bytes(3 * SLAB);
    arena.release(large);
    expect(() => arena.release(large)).toThrow(/not out/);
    expect(() => arena.release(Buffer.alloc(3 * SLAB))).toThrow(/not out/);
    expect(arena.usage.held).toBe(0);
  });
});
