import { describe, expect, it } from 'vitest';
import { Emitter } from '../src/emitter.js';

interface Events {
  a: number;
  b: string;
}

class TestEmitter extends Emitter<Events> {
  readonly thrown: Array<{ err: unknown; event: string }> = [];
  fire<K extends keyof Events>(event: K, payload: Events[K]): void {
    this.emit(event, payload);
  }
  protected override onListenerError(err: unknown, event: string): void {
    this.thrown.push({ err, event });
  }
}

describe('Emitter', () => {
  it('calls listeners in order with the payload, per event', () => {
    const e = new TestEmitter();
    const seen: string[] = [];
    e.on('a', (n) => seen.push(`first ${n}`));
    e.on('a', (n) => seen.push(`second ${n}`));
    e.on('b', (s) => seen.push(`b ${s}`));
    e.fire('a', 1);
    e.fire('b', 'x');
    expect(seen).toEqual(['first 1', 'second 1', 'b x']);
  });

  it('removes listeners with off() and with the returned function', () => {
    const e = new TestEmitter();
    const seen: number[] = [];
    const f = (n: number) => seen.push(n);
    const g = (n: number) => seen.push(n * 10);
    e.on('a', f);
    const offG = e.on('a', g);
    e.fire('a', 1);
    e.off('a', f);
    e.fire('a', 2);
    offG();
    e.fire('a', 3);
    expect(seen).toEqual([1, 10, 20]);
    expect(e.listenerCount('a')).toBe(0);
  });

  it('once() fires a single time and can be cancelled before it fires', () => {
    const e = new TestEmitter();
    const seen: number[] = [];
    e.once('a', (n) => seen.push(n));
    const cancel = e.once('a', (n) => seen.push(n * 100));
    cancel();
    e.fire('a', 1);
    e.fire('a', 2);
    expect(seen).toEqual([1]);
  });

  it('the unsubscribe function removes only its own registration of a shared function', () => {
    const e = new TestEmitter();
    const seen: number[] = [];
    const f = (n: number) => seen.push(n);
    e.on('a', f);
    const second = e.on('a', f);
    second();
    e.fire('a', 7);
    expect(seen).toEqual([7]);
  });

  it('does not call a listener removed by an earlier listener of the same emission', () => {
    const e = new TestEmitter();
    const seen: string[] = [];
    let offLater = () => {};
    e.on('a', () => {
      seen.push('first');
      offLater();
    });
    offLater = e.on('a', () => seen.push('later'));
    e.fire('a', 1);
    expect(seen).toEqual(['first']);
  });

  it('a throwing listener does not stop the others and is reported', () => {
    const e = new TestEmitter();
    const seen: number[] = [];
    const boom = new Error('boom');
    e.on('a', () => {
      throw boom;
    });
    e.on('a', (n) => seen.push(n));
    expect(() => e.fire('a', 5)).not.toThrow();
    expect(seen).toEqual([5]);
    expect(e.thrown).toEqual([{ err: boom, event: 'a' }]);
  });
});
