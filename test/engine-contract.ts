/**
 * The engine contract (packages/server/src/engine/: broker.ts, presence.ts, control.ts, nodes.ts), as a suite any
 * engine must pass: memory now, Redis next. `make` returns a started engine
 * wired to `handler`; `cleanup` stops it.
 */
import { describe, expect, it } from 'vitest';
import type { Engine, EngineHandler, ServerPublication } from '@tidings/server';

export interface EngineFixture {
  make(handler: EngineHandler): Promise<Engine>;
}

const history = { size: 100, ttlMs: 60_000 };

function recorder() {
  const pubs: ServerPublication[] = [];
  const joins: unknown[] = [];
  const controls: unknown[] = [];
  const signals: unknown[] = [];
  const handler: EngineHandler = {
    onSignal: (ch, from, json) => void signals.push({ ch, from, json }),
    onPublication: (p) => void pubs.push(p),
    onJoin: (ch, info) => void joins.push({ ch, info, kind: 'join' }),
    onLeave: (ch, info) => void joins.push({ ch, info, kind: 'leave' }),
    onControl: (m) => void controls.push(m),
    onResync: () => {},
  };
  return { pubs, joins, controls, signals, handler };
}

async function settle(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

export function engineContract(name: string, fx: EngineFixture): void {
  describe(`engine contract: ${name}`, () => {
    it('gives dense offsets in one epoch and fans out in offset order', async () => {
      const r = recorder();
      const engine = await fx.make(r.handler);
      await engine.broker.subscribe('c1');
      const positions = [];
      for (let i = 0; i < 50; i++) positions.push(await engine.broker.publish('c1', JSON.stringify({ i }), { history }));
      await settle(() => r.pubs.length === 50);
      expect(positions.map((p) => p.offset)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(new Set(positions.map((p) => p.epoch)).size).toBe(1);
      expect(r.pubs.map((p) => p.offset)).toEqual(positions.map((p) => p.offset));
      expect(r.pubs.map((p) => JSON.parse(p.data).i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      await engine.close();
    });

    it('keeps channels independent', async () => {
      const r = recorder();
      const engine = await fx.make(r.handler);
      const a = await engine.broker.publish('ca', '1', { history });
      const b = await engine.broker.publish('cb', '1', { history });
      expect(a.offset).toBe(1);
      expect(b.offset).toBe(1);
      expect(a.epoch).not.toBe(b.epoch);
      await engine.close();
    });

    it('returns history after an offset, bounded by size, with the top position', async () => {
      const r = recorder();
      const engine = await fx.make(r.handler);
      const small = { size: 10, ttlMs: 60_000 };
      for (let i = 0; i < 25; i++) await engine.broker.publish('h1', String(i), { history: small });
      const all = await engine.broker.history('h1', { sinceOffset: 0 });
      expect(all.position.offset).toBe(25);
      const offsets = all.publications.map((p) => p.offset);
      expect(offsets[offsets.length - 1]).toBe(25);
      expect(offsets.length).toBeGreaterThanOrEqual(10);
      for (let i = 1; i < offsets.length; i++) expect(offsets[i]).toBe(offsets[i - 1]! + 1);
      const tail = await engine.broker.history('h1', { sinceOffset: 22 });
      expect(tail.publications.map((p) => p.offset)).toEqual([23, 24, 25]);
      const limited = await engine.broker.history('h1', { sinceOffset: 20, limit: 2 });
      expect(limited.publications.map((p) => p.offset)).toEqual([21, 22]);
      const none = await engine.broker.history('h1', { limit: 0 });
      expect(none.publications).toEqual([]);
      expect(none.position).toEqual(all.position);
      await engine.close();
    });

    it('drops history past its TTL but keeps the position', async () => {
      const r = recorder();
      const engine = await fx.make(r.handler);
      const short = { size: 100, ttlMs: 1000 };
      await engine.broker.publish('t1', '1', { history: short });
      await new Promise((res) => setTimeout(res, 2100));
      const h = await engine.broker.history('t1', { sinceOffset: 0 });
      expect(h.publications).toEqual([]);
      expect(h.position.offset).toBe(1);
      await engine.close();
    });

    it('creates a stream position for a subscriber before the first publication', async () => {
      const r = recorder();
      const engine = await fx.make(r.handler);
      const before = await engine.broker.history('fresh', { limit: 0, policy: history });
      expect(before.position.offset).toBe(0);
      expect(before.position.epoch).not.toBe('');
      const pos = await engine.broker.publish('fresh', '1', { history });
      expect(pos).toEqual({ offset: 1, epoch: before.position.epoch });
      await engine.close();
    });

    it('publishes unpositioned when history is off', async () => {
      const r = recorder();
      const engine = await fx.make(r.handler);
      await engine.broker.subscribe('nohist');
      const pos = await engine.broker.publish('nohist', '"x"', { history: { size: 0, ttlMs: 0 } });
      expect(pos).toEqual({ offset: 0, epoch: '' });
      await settle(() => r.pubs.length === 1);
      expect(r.pubs[0]!.data).toBe('"x"');
      await engine.close();
    });

    it('answers a repeated idempotency key with the first result, publishing once', async () => {
      const r = recorder();
      const engine = await fx.make(r.handler);
      await engine.broker.subscribe('idem');
      const first = await engine.broker.publish('idem', '1', { history, idempotencyKey: 'k1' });
      const again = await engine.broker.publish('idem', '1', { history, idempotencyKey: 'k1' });
      const other = await engine.broker.publish('idem', '2', { history, idempotencyKey: 'k2' });
      expect(again).toEqual(first);
      expect(other.offset).toBe(first.offset + 1);
      await settle(() => r.pubs.length >= 2);
      expect(r.pubs.length).toBe(2);
      await engine.close();
    });

    it('keeps presence and relays join, leave and control messages', async () => {
      const r = recorder();
      const engine = await fx.make(r.handler);
      await engine.broker.subscribe('p1');
      await engine.presence.add('p1', { client: 'c1', user: 'u1' });
      await engine.presence.add('p1', { client: 'c2', user: 'u2', info: { name: 'Bo' } });
      expect((await engine.presence.list('p1')).map((e) => e.client).sort()).toEqual(['c1', 'c2']);
      await engine.presence.remove('p1', 'c1');
      expect(await engine.presence.list('p1')).toEqual([{ client: 'c2', user: 'u2', info: { name: 'Bo' } }]);
      await engine.broker.publishJoin('p1', { client: 'c3', user: 'u3' });
      await engine.control.publish({ kind: 'disconnectUser', user: 'u1', code: 3503, reason: 'x' });
      await settle(() => r.joins.length === 1 && r.controls.length === 1);
      expect(r.joins).toEqual([{ ch: 'p1', info: { client: 'c3', user: 'u3' }, kind: 'join' }]);
      expect(r.controls).toEqual([{ kind: 'disconnectUser', user: 'u1', code: 3503, reason: 'x' }]);
      await engine.close();
    });

    it('lists the nodes that announced lately, sorted by id', async () => {
      const engine = await fx.make(recorder().handler);
      const node = (id: string, updated: number) => ({ id, address: `127.0.0.1:${id}`, connections: 0, users: 0, channels: 0, uptime: 0, updated });
      await engine.nodes.announce(node('b', Date.now()));
      await engine.nodes.announce(node('a', Date.now()));
      await engine.nodes.announce(node('gone', Date.now() - 3_600_000));
      expect((await engine.nodes.list()).map((n) => n.id)).toEqual(['a', 'b']);
      await engine.close();
    });

    it('relays signals to the nodes holding the channel, storing nothing', async () => {
      const r = recorder();
      const engine = await fx.make(r.handler);
      await engine.broker.subscribe('sig');
      await engine.broker.publish('sig', '1', { history });
      await engine.broker.publishSignal('sig', 'client-a', '{"type":"signal","channel":"sig","data":{"typing":true}}');
      await settle(() => r.signals.length === 1);
      expect(r.signals).toEqual([{ ch: 'sig', from: 'client-a', json: '{"type":"signal","channel":"sig","data":{"typing":true}}' }]);
      const h = await engine.broker.history('sig', { sinceOffset: 0 });
      expect(h.position.offset).toBe(1);
      expect(h.publications.map((p) => p.data)).toEqual(['1']);
      await engine.close();
    });
  });
}
