import { expect, it, vi } from 'vitest';
import { Deadlines, type HasDeadline } from '../packages/server/dist/node/deadlines.js';
import { until } from './helpers.js';

class Item implements HasDeadline {
  dueTick = -1;
  dueSlot = -1;
  fired: number[] = [];
  constructor(readonly wheel: Deadlines<Item>) {}
  onDeadline(): void {
    this.fired.push(this.wheel.now());
  }
}

it('fires each item once at its latest deadline, never early, and skips cancelled ones', async () => {
  const wheel = new Deadlines<Item>(10, (err) => {
    throw err;
  });
  try {
    const a = new Item(wheel);
    const b = new Item(wheel);
    const c = new Item(wheel);
    const t0 = wheel.now();
    wheel.schedule(a, t0 + 30);
    wheel.schedule(a, t0 + 60); // re-armed: only this one counts
    wheel.schedule(b, t0 + 20);
    wheel.schedule(c, t0 + 20);
    wheel.cancel(c);
    await until(() => a.fired.length > 0 && b.fired.length > 0);
    await new Promise((r) => setTimeout(r, 80));
    expect(a.fired).toHaveLength(1);
    expect(a.fired[0]).toBeGreaterThanOrEqual(t0 + 60);
    expect(b.fired).toHaveLength(1);
    expect(b.fired[0]).toBeGreaterThanOrEqual(t0 + 20);
    expect(c.fired).toHaveLength(0);
  } finally {
    wheel.close();
  }
});

it('a deadline already past fires on the next tick; a throwing item does not stop the others', async () => {
  const errors: unknown[] = [];
  const wheel = new Deadlines<HasDeadline>(10, (err) => errors.push(err));
  try {
    const fired: string[] = [];
    const bad: HasDeadline = {
      dueTick: -1,
      dueSlot: -1,
      onDeadline() {
        throw new Error('boom');
      },
    };
    const good: HasDeadline = { dueTick: -1, dueSlot: -1, onDeadline: () => fired.push('good') };
    wheel.schedule(bad, wheel.now() - 1000);
    wheel.schedule(good, wheel.now() - 1000);
    await until(() => fired.length === 1);
    expect(errors).toHaveLength(1);
  } finally {
    wheel.close();
  }
});

it('lets go of an item as soon as it is cancelled or re-armed (a closed session is not held)', () => {
  const wheel = new Deadlines<Item>(10, () => {});
  try {
    const items = Array.from({ length: 50 }, () => new Item(wheel));
    for (const [i, item] of items.entries()) wheel.schedule(item, wheel.now() + 1000 + (i % 3) * 10);
    for (const item of items.slice(0, 25)) wheel.schedule(item, wheel.now() + 5000); // re-armed: one entry each
    for (const item of items) wheel.cancel(item);
    // White-box: no bucket may still reference an item.
    expect((wheel as unknown as { buckets: Map<number, Item[]> }).buckets.size).toBe(0);
  } finally {
    wheel.close();
  }
});

it('keeps time when the wall clock jumps (monotonic clock)', async () => {
  const wheel = new Deadlines<Item>(10, () => {});
  const realNow = Date.now();
  const jump = vi.spyOn(Date, 'now').mockReturnValue(realNow + 3_600_000);
  try {
    const item = new Item(wheel);
    const t0 = wheel.now();
    wheel.schedule(item, t0 + 60);
    // until() reads Date.now(), which is frozen here: wait on the monotonic clock instead.
    const giveUp = performance.now() + 2000;
    while (item.fired.length === 0 && performance.now() < giveUp) await new Promise((r) => setTimeout(r, 10));
    expect(item.fired[0]).toBeGreaterThanOrEqual(t0 + 60);
    expect(item.fired[0]).toBeLessThan(t0 + 1000);
  } finally {
    jump.mockRestore();
    wheel.close();
  }
});
