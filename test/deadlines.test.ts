import { expect, it } from 'vitest';
import { Deadlines, type HasDeadline } from '../packages/server/dist/session/deadlines.js';
import { until } from './helpers.js';

class Item implements HasDeadline {
  dueTick = -1;
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
      onDeadline() {
        throw new Error('boom');
      },
    };
    const good: HasDeadline = { dueTick: -1, onDeadline: () => fired.push('good') };
    wheel.schedule(bad, wheel.now() - 1000);
    wheel.schedule(good, wheel.now() - 1000);
    await until(() => fired.length === 1);
    expect(errors).toHaveLength(1);
  } finally {
    wheel.close();
  }
});
