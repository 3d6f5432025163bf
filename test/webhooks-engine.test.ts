/** The occupancy and outbox contracts (engine/occupancy.ts, engine/outbox.ts), on the memory and the Redis engine. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Engine, MemoryEngine, RedisEngine, type Share } from '@tidings/server';
import { until } from './helpers.js';
import { type TestRedis, skipWithoutRedis, startRedis } from './redis-server.js';

const noop = { onPublication() {}, onJoin() {}, onLeave() {}, onSignal() {}, onControl() {}, onResync() {} };

function contract(name: string, make: () => Promise<Engine>) {
  describe(`occupancy and outbox: ${name}`, () => {
    it('reports the first join and the last leave of a share, channel and member apart', async () => {
      const e = await make();
      const room: Share = { channel: 'room:a' };
      const ann: Share = { channel: 'room:a', user: 'ann' };
      const seqs: number[] = [];
      const first = await e.occupancy.join(room);
      expect(first).toMatchObject({ vacatedFirst: false, occupied: true });
      expect(await e.occupancy.join(ann)).toMatchObject({ vacatedFirst: false, occupied: true });
      seqs.push(first.seq);
      for (let i = 0; i < 5; i++) {
        seqs.push(await e.occupancy.leave(room));
        seqs.push((await e.occupancy.join(room)).seq);
      }
      expect(await e.occupancy.leave(ann)).toBeGreaterThan(0);
      seqs.push(await e.occupancy.leave(room));
      expect(await e.occupancy.leave(room)).toBe(0);
      // Each transition of the share is numbered higher than the one before, even within one microsecond.
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);
      await e.close();
    });

    it('keeps order, drops the oldest beyond the bound, and acks exactly what it is told', async () => {
      const e = await make();
      const q = `q${Math.random()}`;
      expect(await e.outbox.lease(q, 5000)).toBe(true);
      expect(await e.outbox.append(q, ['1', '2', '3'], 5)).toBe(0);
      expect(await e.outbox.append(q, ['4', '5', '6', '7'], 5)).toBe(2);
      expect(await e.outbox.depth(q)).toBe(5);
      const head = await e.outbox.peek(q, 2);
      expect(head.map((i) => i.json)).toEqual(['3', '4']);
      expect(await e.outbox.append(q, ['8'], 5)).toBe(1); // drops '3' while it is being delivered
      expect(await e.outbox.ack(q, head.map((i) => i.ref))).toBe(true);
      expect((await e.outbox.peek(q, 10)).map((i) => i.json)).toEqual(['5', '6', '7', '8']);
      await e.outbox.release(q);
      await e.close();
    });
  });
}

contract('memory', async () => {
  const e = new MemoryEngine();
  await e.start(noop);
  return e;
});

describe.skipIf(skipWithoutRedis)('redis', () => {
  let redis: TestRedis;
  let prefix = '';
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.destroy());
  const make = async (opts: { prefix?: string; presenceTtlMs?: number } = {}) => {
    const e = new RedisEngine({ url: redis.url, prefix: opts.prefix ?? `t${Math.random().toString(36).slice(2, 8)}:`, presenceTtlMs: opts.presenceTtlMs });
    await e.start(noop);
    return e;
  };

  contract('redis', () => make());

  it('shares across nodes: occupied once for the first node, vacated once for the last', async () => {
    prefix = `x${Math.random().toString(36).slice(2, 8)}:`;
    const [a, b] = [await make({ prefix }), await make({ prefix })];
    const room = { channel: 'room:shared' };
    expect((await a.occupancy.join(room)).occupied).toBe(true);
    expect((await b.occupancy.join(room)).occupied).toBe(false);
    expect(await a.occupancy.leave(room)).toBe(0);
    expect(await b.occupancy.leave(room)).toBeGreaterThan(0);
    await Promise.all([a.close(), b.close()]);
  });

  it("lets a stopped node's shares expire, reported by exactly one live node", async () => {
    prefix = `y${Math.random().toString(36).slice(2, 8)}:`;
    const ttl = { prefix, presenceTtlMs: 600 };
    const dead = await make(ttl);
    const [b, c] = [await make(ttl), await make(ttl)];
    const expired: string[] = [];
    const seqs = new Map<string, number>();
    for (const e of [b, c]) e.occupancy.onExpired = (s, seq) => void (expired.push(`${s.channel}/${s.user ?? ''}`), seqs.set(`${s.channel}/${s.user ?? ''}`, seq));
    const occupiedSeq = (await dead.occupancy.join({ channel: 'room:crash' })).seq;
    await dead.occupancy.join({ channel: 'room:crash', user: 'zed' });
    await dead.occupancy.join({ channel: 'room:kept' });
    expect((await b.occupancy.join({ channel: 'room:kept' })).occupied).toBe(false);
    await dead.close(); // stops refreshing, like a crash: its shares stay in Redis until they expire
    await until(() => expired.length >= 2, 10_000, 'expiry reported');
    // Two more sweeps of each live node, to catch a second report.
    await new Promise((r) => setTimeout(r, 1000));
    expect(expired.sort()).toEqual(['room:crash/', 'room:crash/zed']);
    expect(seqs.get('room:crash/')).toBeGreaterThan(occupiedSeq);
    // room:kept is still held by b, so it did not expire; room:crash was purged by the sweep, so a late joiner simply occupies it.
    const late = await make(ttl);
    const again = await late.occupancy.join({ channel: 'room:crash' });
    expect(again).toMatchObject({ vacatedFirst: false, occupied: true });
    expect(again.seq).toBeGreaterThan(seqs.get('room:crash/')!);
    expect(await b.occupancy.leave({ channel: 'room:kept' })).toBeGreaterThan(0);
    await Promise.all([b.close(), c.close(), late.close()]);
  });

  it('reports "vacated first" to a node joining a share whose holders all died, before any sweep', async () => {
    prefix = `z${Math.random().toString(36).slice(2, 8)}:`;
    const dead = await make({ prefix, presenceTtlMs: 60_000 });
    const before = (await dead.occupancy.join({ channel: 'room:gone' })).seq;
    await dead.close();
    // Move the dead node's deadline into the past, as if its TTL had run out.
    const key = `${prefix}{room:gone}:oc`;
    const member = (await redis.command('ZRANGE', key, '0', '-1')).split('\r\n').find((l) => !l.startsWith('*') && !l.startsWith('$'))!;
    await redis.command('ZADD', key, '1', member);
    const e = await make({ prefix, presenceTtlMs: 60_000 });
    const joined = await e.occupancy.join({ channel: 'room:gone' });
    expect(joined).toMatchObject({ vacatedFirst: true, occupied: true });
    expect(joined.seq - 1).toBeGreaterThan(before); // the vacancy's own number, between the two occupancies
    await e.close();
  });

  it('hands a share purged while its node still holds it to onLost, and rejoins it only while still held', async () => {
    prefix = `s${Math.random().toString(36).slice(2, 8)}:`;
    const e = await make({ prefix, presenceTtlMs: 60_000 });
    const occ = e.occupancy;
    const lost: string[] = [];
    occ.onLost = (s) => void lost.push(`${s.channel}/${s.user ?? ''}`);
    await occ.join({ channel: 'room:stall' });
    await occ.join({ channel: 'room:stall', user: 'ann' });
    await occ.join({ channel: 'room:fine' });
    // What another node's sweep does to a node that stalled past the TTL: its entries are purged.
    await redis.command('DEL', `${prefix}{room:stall}:oc`);
    await redis.command('DEL', `${prefix}{room:stall}:ou:ann`);
    await occ.tick();
    expect(lost.sort()).toEqual(['room:stall/', 'room:stall/ann']);
    expect(await occ.rejoin({ channel: 'room:stall' })).toMatchObject({ occupied: true });
    expect(await occ.leave({ channel: 'room:stall', user: 'ann' })).toBe(0); // nothing of ann was left to vacate
    expect(await occ.rejoin({ channel: 'room:stall', user: 'ann' })).toBeUndefined(); // left meanwhile: nothing to rejoin
    lost.length = 0;
    await occ.tick();
    expect(lost).toEqual([]); // rejoined shares refresh normally again
    expect(await occ.leave({ channel: 'room:stall' })).toBeGreaterThan(0);
    await e.close();
  });

  it('keeps the lease to one node until it is released or expires', async () => {
    prefix = `l${Math.random().toString(36).slice(2, 8)}:`;
    const [a, b] = [await make({ prefix }), await make({ prefix })];
    expect(await a.outbox.lease('q', 400)).toBe(true);
    expect(await b.outbox.lease('q', 400)).toBe(false);
    await a.outbox.append('q', ['x'], 10);
    const items = await a.outbox.peek('q', 10);
    expect(await b.outbox.ack('q', items.map((i) => i.ref))).toBe(false);
    expect(await b.outbox.depth('q')).toBe(1);
    await new Promise((r) => setTimeout(r, 600)); // a's lease runs out unrenewed
    expect(await b.outbox.lease('q', 5000)).toBe(true);
    expect(await a.outbox.lease('q', 5000)).toBe(false);
    expect(await a.outbox.ack('q', items.map((i) => i.ref))).toBe(false);
    await b.outbox.release('q');
    expect(await a.outbox.lease('q', 5000)).toBe(true);
    expect(await a.outbox.ack('q', items.map((i) => i.ref))).toBe(true);
    expect(await a.outbox.depth('q')).toBe(0);
    await Promise.all([a.close(), b.close()]);
  });
});
