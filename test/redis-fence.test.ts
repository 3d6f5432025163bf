/**
 * The publish fence of the Redis broker (engine/broker-redis.ts): a node that
 * knows a stream reached a position never publishes under an offset at or
 * below it in the same epoch, even after the stream was rolled back behind
 * its back (a stale replica promoted) and even after its subscribers left and
 * came back in between. The rollback is made by hand on a real redis-server:
 * the meta hash's offset is set back and the stream's tail removed, which is
 * what a replica that missed the last writes looks like.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisEngine } from '@tidings/server';
import { until } from './helpers.js';
import { type TestRedis, skipWithoutRedis, startRedis } from './redis-server.js';

const noop = { onPublication() {}, onResync() {}, onJoin() {}, onLeave() {}, onSignal() {}, onControl() {} };
const history = { history: { size: 100, ttlMs: 60_000 } };

describe.skipIf(skipWithoutRedis)('redis publish fence', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.destroy());

  /** Roll channel `ch` back to offset `to` under the same epoch, as a stale replica promoted would. */
  async function rollBack(prefix: string, ch: string, to: number): Promise<void> {
    await redis.command('HSET', `${prefix}{${ch}}:m`, 'o', String(to));
    await redis.command('XTRIM', `${prefix}{${ch}}:s`, 'MINID', '0'); // keep the entries...
    await redis.command('EVAL', `for _, e in ipairs(redis.call('XRANGE', KEYS[1], '${to + 1}-0', '+')) do redis.call('XDEL', KEYS[1], e[1]) end return 0`, '1', `${prefix}{${ch}}:s`);
  }

  for (const released of [false, true]) {
    it(`starts a new epoch instead of reusing an offset it knows was taken${released ? ', after its subscribers left, it published meanwhile, and they came back' : ''}`, async () => {
      const prefix = `f${Math.random().toString(36).slice(2, 8)}:`;
      const seen: Array<{ epoch: string; offset: number }> = [];
      const engine = new RedisEngine({ url: redis.url, prefix });
      await engine.start({ ...noop, onPublication: (p) => void seen.push({ epoch: p.epoch, offset: p.offset }) });
      try {
        await engine.broker.subscribe('jobs:f');
        const acks = [];
        for (let i = 0; i < 10; i++) acks.push(await engine.broker.publish('jobs:f', JSON.stringify({ i }), history));
        await until(() => seen.length === 10, 5_000, 'the ten publications through pub/sub');
        let rollTo = 5;
        if (released) {
          await engine.broker.unsubscribe('jobs:f');
          // Acknowledged while nobody here held the channel (offsets 11, 12): the fence must know them too.
          for (let i = 10; i < 12; i++) acks.push(await engine.broker.publish('jobs:f', JSON.stringify({ i }), history));
          await engine.broker.subscribe('jobs:f');
          rollTo = 10; // a replica that had what pub/sub showed, but not the two publications after
        }
        await rollBack(prefix, 'jobs:f', rollTo);
        const after = await engine.broker.publish('jobs:f', JSON.stringify({ i: 99 }), history);
        // Offsets after the rollback point were acknowledged in the first epoch: none may be given again under it.
        expect(after.epoch).not.toBe(acks[0]!.epoch);
        expect(after.offset).toBe(1);
      } finally {
        await engine.close();
      }
    });
  }

  it('fences with its own acknowledgements, not only what pub/sub brought', async () => {
    const prefix = `g${Math.random().toString(36).slice(2, 8)}:`;
    const engine = new RedisEngine({ url: redis.url, prefix });
    await engine.start(noop);
    try {
      await engine.broker.subscribe('jobs:g');
      // A broker without a handler drops what pub/sub brings (as while shutting down): only its acks tell it where the stream is.
      (engine.broker as unknown as { stop(): void }).stop();
      const first = await engine.broker.publish('jobs:g', '1', history);
      await rollBack(prefix, 'jobs:g', 0);
      const again = await engine.broker.publish('jobs:g', '2', history);
      expect(again.epoch).not.toBe(first.epoch);
    } finally {
      await engine.close();
    }
  });
});
