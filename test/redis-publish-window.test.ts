/**
 * Publishes coalesced into batch script calls (engine/redis-publish-window.ts,
 * PUBLISH_BATCH_SCRIPT), on a real redis-server: publishes made together are
 * acknowledged in call order with contiguous offsets per channel, reach
 * pub/sub in that order, take fewer script calls than publications (one call
 * for what one event-loop turn brings; at most MAX_IN_FLIGHT calls out, then
 * one batch of what waited), keep idempotency inside one batch, and one
 * failing publication fails alone.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisEngine } from '@tidings/server';
import { until } from './helpers.js';
import { MAX_BATCH, MAX_IN_FLIGHT } from '../packages/server/src/engine/redis-publish-window.js';
import { SCRIPT_COMMANDS, type TestRedis, commandCalls, skipWithoutRedis, startRedis } from './redis-server.js';

const noop = { onPublication() {}, onResync() {}, onJoin() {}, onLeave() {}, onSignal() {}, onControl() {} };
const history = { history: { size: 1000, ttlMs: 60_000 } };

/** Script calls Redis has run so far (EVALSHA and EVAL). */
async function scriptCalls(redis: TestRedis): Promise<number> {
  return commandCalls(await redis.command('INFO', 'commandstats'), SCRIPT_COMMANDS);
}

describe.skipIf(skipWithoutRedis)('redis publish window', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.destroy());

  async function engineWith(onPublication: (channel: string, offset: number, data: string) => void) {
    const prefix = `w${Math.random().toString(36).slice(2, 8)}:`;
    const engine = new RedisEngine({ url: redis.url, prefix });
    await engine.start({ ...noop, onPublication: (p) => onPublication(p.channel, p.offset, p.data) });
    return { engine, prefix };
  }

  it('acknowledges concurrent publishes in call order, in fewer script calls, and delivers them in that order', async () => {
    const seen = new Map<string, Array<{ offset: number; data: string }>>();
    const { engine } = await engineWith((ch, offset, data) => {
      if (!seen.has(ch)) seen.set(ch, []);
      seen.get(ch)!.push({ offset, data });
    });
    try {
      const channels = ['jobs:a', 'jobs:b', 'jobs:c'];
      for (const ch of channels) await engine.broker.subscribe(ch);
      const before = await scriptCalls(redis);
      const n = 600;
      const acks = await Promise.all(Array.from({ length: n }, (_, i) => engine.broker.publish(channels[i % 3]!, JSON.stringify({ i }), history)));
      const calls = (await scriptCalls(redis)) - before;
      // Publications made in one turn go together, MAX_BATCH to a call.
      expect(calls).toBeLessThan(n / 10);
      for (let c = 0; c < 3; c++) {
        const mine = acks.filter((_, i) => i % 3 === c);
        expect(mine.map((a) => a.offset)).toEqual(Array.from({ length: n / 3 }, (_, k) => k + 1));
        expect(new Set(mine.map((a) => a.epoch)).size).toBe(1);
      }
      await until(() => channels.every((ch) => (seen.get(ch)?.length ?? 0) === n / 3), 5_000, 'every publication through pub/sub');
      for (let c = 0; c < 3; c++) {
        const got = seen.get(channels[c]!)!;
        expect(got.map((g) => g.offset)).toEqual(Array.from({ length: n / 3 }, (_, k) => k + 1));
        expect(got.map((g) => JSON.parse(g.data).i)).toEqual(Array.from({ length: n / 3 }, (_, k) => c + 3 * k));
      }
    } finally {
      await engine.close();
    }
  });

  /** Publications made in the same turn as what follows them, so all share one batch call. */
  function sameTurn(engine: RedisEngine, channel: string) {
    return Array.from({ length: MAX_IN_FLIGHT }, (_, i) => engine.broker.publish(channel, `"filler ${i}"`, history));
  }

  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

  it('sends what one turn brings as one script call', async () => {
    const { engine } = await engineWith(() => {});
    try {
      await Promise.all([...sameTurn(engine, 'jobs:v'), engine.broker.publish('jobs:v', '0', history)]); // the batch script loaded
      await engine.broker.publish('jobs:v', '0', history); // and the single one
      const before = await scriptCalls(redis);
      const acks = await Promise.all(Array.from({ length: 10 }, (_, i) => engine.broker.publish('jobs:v', String(i), history)));
      expect(acks.map((a) => a.offset)).toEqual(Array.from({ length: 10 }, (_, i) => MAX_IN_FLIGHT + 3 + i));
      expect((await scriptCalls(redis)) - before).toBe(1);
    } finally {
      await engine.close();
    }
  });

  it('keeps at most MAX_IN_FLIGHT calls out; what arrives meanwhile, over several turns, goes as one batch call', async () => {
    const { engine } = await engineWith(() => {});
    try {
      await Promise.all([...sameTurn(engine, 'jobs:w'), engine.broker.publish('jobs:w', '0', history)]);
      await engine.broker.publish('jobs:w', '0', history);
      const before = await scriptCalls(redis);
      // Redis holds every other client's commands until the pause ends, so the calls sent stay in flight.
      await redis.command('CLIENT', 'PAUSE', '300', 'ALL');
      const pending: Array<Promise<{ offset: number }>> = [];
      for (let turn = 0; turn < MAX_IN_FLIGHT + 3; turn++) {
        pending.push(engine.broker.publish('jobs:w', String(turn), history));
        await nextTurn();
      }
      const acks = await Promise.all(pending);
      expect(acks.map((a) => a.offset)).toEqual(Array.from({ length: MAX_IN_FLIGHT + 3 }, (_, i) => MAX_IN_FLIGHT + 3 + i));
      // One call per turn while calls could go out, then the three later turns' publications together.
      expect((await scriptCalls(redis)) - before).toBe(MAX_IN_FLIGHT + 1);
    } finally {
      await engine.close();
    }
  });

  it('sends a burst larger than one batch as several calls at once, up to MAX_IN_FLIGHT', async () => {
    const { engine } = await engineWith(() => {});
    try {
      await Promise.all([...sameTurn(engine, 'jobs:u'), engine.broker.publish('jobs:u', '0', history)]);
      await engine.broker.publish('jobs:u', '0', history);
      // Scripts wait while writes are paused; CLIENT LIST still answers and shows what the engine sent behind the first call.
      await redis.command('CLIENT', 'PAUSE', '1000', 'WRITE');
      const n = MAX_BATCH * MAX_IN_FLIGHT;
      const acks = Promise.all(Array.from({ length: n }, (_, i) => engine.broker.publish('jobs:u', String(i), history)));
      let behind = 0;
      for (let tries = 0; tries < 50 && behind === 0; tries++) {
        await new Promise((r) => setTimeout(r, 10));
        const blocked = (await redis.command('CLIENT', 'LIST')).split('\n').find((l) => / flags=b /.test(l) && / cmd=evalsha /.test(l));
        behind = Number(/ qbuf=(\d+) /.exec(blocked ?? '')?.[1] ?? 0);
      }
      // With one call out, nothing would wait in the query buffer: the second batch goes only after the first answers.
      expect(behind).toBeGreaterThan(0);
      expect((await acks).map((a) => a.offset)).toEqual(Array.from({ length: n }, (_, i) => MAX_IN_FLIGHT + 3 + i));
    } finally {
      await engine.close();
    }
  });

  it('answers a repeated idempotency key inside one batch with the first position', async () => {
    const { engine } = await engineWith(() => {});
    try {
      const fillers = sameTurn(engine, 'jobs:x');
      const calls = [1, 2, 3].map((i) => engine.broker.publish('jobs:x', String(i), { ...history, idempotencyKey: 'k1' }));
      const [a, b, c] = await Promise.all(calls);
      expect((await Promise.all(fillers)).map((f) => f.offset)).toEqual(Array.from({ length: MAX_IN_FLIGHT }, (_, i) => i + 1));
      expect(a!.offset).toBe(MAX_IN_FLIGHT + 1);
      expect(b).toEqual(a);
      expect(c).toEqual(a);
    } finally {
      await engine.close();
    }
  });

  it('fails only the publication whose keys are broken; the rest of its batch is published', async () => {
    const { engine, prefix } = await engineWith(() => {});
    try {
      await redis.command('SET', `${prefix}{jobs:broken}:s`, 'not a stream');
      await redis.command('HSET', `${prefix}{jobs:broken}:m`, 'e', 'E1', 'o', '0');
      const fillers = sameTurn(engine, 'jobs:ok');
      const results = await Promise.allSettled([
        engine.broker.publish('jobs:ok', '1', history),
        engine.broker.publish('jobs:broken', '1', history),
        engine.broker.publish('jobs:ok', '2', history),
      ]);
      await Promise.all(fillers);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((results[1] as PromiseRejectedResult).reason.message).toMatch(/WRONGTYPE/);
      expect((results[2] as PromiseFulfilledResult<{ offset: number }>).value.offset).toBe(MAX_IN_FLIGHT + 2);
    } finally {
      await engine.close();
    }
  });

  it('keeps per-channel offsets contiguous and in call order for any interleaving (property)', async () => {
    const { engine } = await engineWith(() => {});
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 5 }),
          async (waves) => {
            const run = Math.random().toString(36).slice(2, 8);
            const expected = new Map<number, number>();
            for (const wave of waves) {
              // One wave: publishes made in the same turn; waves run one after another.
              const acks = await Promise.all(wave.map((c) => engine.broker.publish(`p${run}:${c}`, '1', history)));
              wave.forEach((c, i) => {
                const next = (expected.get(c) ?? 0) + 1;
                expected.set(c, next);
                expect(acks[i]!.offset).toBe(next);
              });
            }
          },
        ),
        { numRuns: 40 },
      );
    } finally {
      await engine.close();
    }
  });
});
