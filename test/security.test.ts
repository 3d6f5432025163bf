/**
 * Holes from the attack run of issue 13, one test each, against a real
 * gateway on 127.0.0.1. Each attack is bounded in count and time, and an
 * honest subscriber on another connection keeps receiving meanwhile.
 */
import { once } from 'node:events';
import { connect as tcpConnect } from 'node:net';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { channelUserId, isValidChannel } from '@tidings/protocol';
import {
  encodeConnectResult,
  encodeDisconnect,
  encodeErrorPush,
  encodePresenceEvent,
  encodePub,
  encodeSignal,
  encodeSignalCleared,
  encodeUnsub,
  subscribeResultJson,
} from '../packages/server/dist/wire/encode.js';
import { Gateway, type MemoryEngine, makeConfig } from '@tidings/server';
import { API_KEY, SECRET, type RawPeer, type TestGateway, connectedPeer, startTestGateway, until } from './helpers.js';

let t: TestGateway;
let honest: RawPeer;
beforeAll(async () => {
  t = await startTestGateway({ client: { commandRate: 50, commandBurst: 100, channelLimit: 8, queueMaxBytes: 128 * 1024 } });
  honest = await connectedPeer(t, 'honest');
  await honest.call('subscribe', { channel: 'heartbeat' });
});
afterAll(() => t?.close());

/** Publish `n` to the honest subscriber's channel and check it got every one, in order, so far. */
async function honestStillReceives(n: number): Promise<void> {
  const before = honest.frames.filter((f) => f.type === 'pub').length;
  for (let i = 0; i < n; i++) await t.publish('heartbeat', { i });
  await until(() => honest.frames.filter((f) => f.type === 'pub').length === before + n, 10_000, 'honest publications');
  const offsets = honest.frames.filter((f) => f.type === 'pub').map((f) => f.offset);
  expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => i + 1));
}

describe('what clients subscribe to costs nothing once they are gone (hole 1)', () => {
  it('drops the streams of channels nobody published to when their subscribers leave, and still recovers them', async () => {
    const broker = (t.gw.ctx.engine as MemoryEngine).broker;
    const before = broker.streamCount;
    const channelsBefore = t.gw.ctx.hub.channelCount;
    const peers = await Promise.all(Array.from({ length: 50 }, (_, i) => connectedPeer(t, `spray${i}`)));
    const long = 'n'.repeat(200);
    await Promise.all(peers.map((p, i) => Promise.all(Array.from({ length: 8 }, (_, j) => p.call('subscribe', { channel: `${long}:${i}.${j}` })))));
    expect(broker.streamCount).toBeGreaterThanOrEqual(before + 400);
    for (const p of peers) p.close();
    await until(() => t.gw.connections === 1, 10_000, 'the sprayers gone');
    expect(broker.streamCount).toBe(before);
    expect(t.gw.ctx.hub.channelCount).toBe(channelsBefore);

    const back = await connectedPeer(t, 'back');
    const first = (await back.call('subscribe', { channel: 'empty-room' })).result;
    back.close();
    await until(() => broker.streamCount === before, 10_000, 'the empty stream dropped');
    const again = await connectedPeer(t, 'back');
    const resumed = (await again.call('subscribe', { channel: 'empty-room', since: { offset: 0, epoch: first.epoch } })).result;
    expect(resumed).toMatchObject({ wasRecovering: true, recovered: true, epoch: first.epoch });
    again.close();
    await honestStillReceives(3);
  });
});

describe('every inbound frame counts against the rate limit (hole 2)', () => {
  it('cuts a pong flood before connect with 3013', async () => {
    const ws = new WebSocket(t.wsUrl);
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    for (let i = 0; i < 5000 && ws.readyState === WebSocket.OPEN; i++) ws.send('{"method":"pong"}');
    expect(await closed).toBe(3013);
    await honestStillReceives(5);
  });

  it('cuts a pong flood after connect with 3013', async () => {
    const peer = await connectedPeer(t, 'flooder');
    for (let i = 0; i < 5000 && peer.ws.readyState === WebSocket.OPEN; i++) peer.ws.send('{"method":"pong"}');
    expect((await peer.closed).code).toBe(3013);
    expect(peer.frames.find((f) => f.type === 'disconnect')).toMatchObject({ code: 3013, reconnect: true });
    await honestStillReceives(5);
  });
});

describe('user ids in channel names (holes 4 and 7)', () => {
  it('keeps the personal channel of user "x,y" away from user "x"', async () => {
    const x = await connectedPeer(t, 'x');
    const xy = await connectedPeer(t, 'x,y');
    const mine = xy.frames.find((f) => f.id === 1).result.serverSubs[0].channel;
    expect(mine).toBe(`#${channelUserId('x,y')}`);
    expect(mine).not.toBe('#x,y');
    expect((await x.call('subscribe', { channel: '#x,y' })).result).toBeDefined(); // a channel for x and y, not x,y's own
    expect((await x.call('subscribe', { channel: mine })).error.code).toBe(103);
    expect((await t.api('/api/user/publish', { user: 'x,y', data: { secret: 1 } })).status).toBe(200);
    await xy.waitFor((f) => f.type === 'pub' && f.channel === mine);
    await new Promise((r) => setTimeout(r, 100));
    expect(x.frames.some((f) => f.type === 'pub')).toBe(false);
    x.close();
    xy.close();
  });

  it('sends a valid connect reply whatever the sub, with nothing injected', async () => {
    const sub = 'a","recovered":true,"offset":999,"x":"';
    const peer = await connectedPeer(t, sub);
    const reply = peer.frames.find((f) => f.id === 1).result;
    expect(reply.user).toBe(sub);
    expect(reply.serverSubs).toHaveLength(1);
    expect(reply.serverSubs[0]).toMatchObject({ channel: `#${channelUserId(sub)}`, offset: 0, recovered: false });
    expect(isValidChannel(reply.serverSubs[0].channel)).toBe(true);
    peer.close();
  });

  it('gives every user id exactly one channel form, and distinct ids distinct forms', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), fc.string({ maxLength: 120 }), (a, b) => {
        const fa = channelUserId(a);
        if (fa !== undefined) expect(isValidChannel(`#${fa}`) && !fa.includes(',') && !fa.includes('#')).toBe(true);
        if (a !== b && fa !== undefined) expect(fa).not.toBe(channelUserId(b));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('data nested too deep for storage (hole 5)', () => {
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  it('is refused with 400/107 through the API and 107 from a client, and history keeps working', async () => {
    for (const path of ['/api/publish', '/api/signal']) {
      const r = await t.api(path, `{"channel":"deep","data":${deep(5000)}}`);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe(107);
    }
    const ok = await t.api('/api/publish', { channel: 'deep', data: JSON.parse(deep(100)) });
    expect(ok.status).toBe(200);
    const peer = await connectedPeer(t, 'deep');
    peer.sendRaw(`{"id":50,"method":"publish","params":{"channel":"deep","data":${deep(5000)}}}`);
    expect((await peer.waitFor((f) => f.id === 50)).error.code).toBe(107);
    expect((await t.api('/api/history', { channel: 'deep' })).status).toBe(200);
    peer.close();
  });
});

describe('limits never drop what the server owes (hole 6)', () => {
  it('keeps the personal channel when connect asks for the channel limit', async () => {
    const peer = await connectedPeer(t, 'many', { subs: Array.from({ length: 8 }, (_, i) => ({ channel: `c${i}` })) });
    const reply = peer.frames.find((f) => f.id === 1).result;
    expect(reply.subs.filter((s: any) => !s.error)).toHaveLength(8);
    expect(reply.serverSubs.map((s: any) => s.channel)).toEqual(['#many']);
    expect((await peer.call('subscribe', { channel: 'c9' })).error.code).toBe(106);
    await t.api('/api/user/publish', { user: 'many', data: 1 });
    await peer.waitFor((f) => f.type === 'pub' && f.channel === '#many');
    peer.close();
  });
});

describe('the slow-consumer close is explained (hole 9)', () => {
  it('sends the disconnect push before closing with 3008', async () => {
    const sleeper = await connectedPeer(t, 'sleeper');
    await sleeper.call('subscribe', { channel: 'firehose' });
    sleeper.ws.pause();
    const payload = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 800 && !(t.gw.stats().disconnects[3008] ?? 0); i++) await t.publish('firehose', { i, payload });
    await until(() => (t.gw.stats().disconnects[3008] ?? 0) === 1, 10_000, 'slow disconnect');
    sleeper.ws.resume();
    expect((await sleeper.closed).code).toBe(3008);
    expect(sleeper.frames.at(-1)).toMatchObject({ type: 'disconnect', code: 3008, reconnect: true });
    await honestStillReceives(5);
  });
});

describe('expected client misbehaviour is not an error in the log (hole 8)', () => {
  it('logs no error or stack for 200 request bodies cut off halfway', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const config = makeConfig({ host: '127.0.0.1', port: 0, apiKey: API_KEY, token: { hmacSecret: SECRET } });
    const gw = new Gateway({ config, logger });
    const port = await gw.listen();
    try {
      for (let i = 0; i < 200; i++) {
        const sock = tcpConnect(port, '127.0.0.1');
        await once(sock, 'connect');
        const path = i % 2 ? '/sse/command' : '/api/publish';
        sock.write(`POST ${path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nAuthorization: apikey ${API_KEY}\r\nContent-Length: 4000\r\n\r\n{"session":"`);
        await new Promise((r) => setTimeout(r, 2));
        sock.destroy();
      }
      await new Promise((r) => setTimeout(r, 300));
      const bad = lines.map((l) => JSON.parse(l)).filter((l) => l.level >= 40 || l.err?.stack);
      expect(bad).toEqual([]);
    } finally {
      await gw.close(1000);
    }
  });
});

describe('hand-built frames parse back whatever strings go in (hole 7)', () => {
  const channel = fc.stringMatching(/^[A-Za-z0-9_.:#,@=\-/]{1,60}$/);
  const info = fc.record({ user: fc.string(), client: fc.string(), info: fc.option(fc.jsonValue(), { nil: undefined }) }, { requiredKeys: ['user', 'client'] });
  const outcome = (ch: string) => ({ channel: ch, epoch: 'e1', offset: 3, recoverable: true, wasRecovering: false, recovered: false, publications: [] });
  it('every encoder', () => {
    fc.assert(
      fc.property(channel, fc.string(), fc.jsonValue(), info, fc.string(), fc.integer({ min: 1000, max: 4999 }), (ch, text, data, who, user, code) => {
        const dataJson = JSON.stringify(data) ?? 'null';
        const clean = JSON.parse(JSON.stringify(who));
        expect(JSON.parse(encodeDisconnect(code, text))).toMatchObject({ type: 'disconnect', code, reason: text });
        expect(JSON.parse(encodeUnsub(ch, code, text, true))).toMatchObject({ channel: ch, reason: text, resubscribe: true });
        expect(JSON.parse(encodeErrorPush({ code: 107, message: text }))).toEqual({ type: 'error', error: { code: 107, message: text } });
        expect(JSON.parse(encodePresenceEvent('join', ch, clean))).toEqual({ type: 'join', channel: ch, info: clean });
        expect(JSON.parse(encodeSignal(ch, dataJson, clean, 'typing', 5))).toMatchObject({ channel: ch, data: JSON.parse(dataJson), info: clean });
        expect(JSON.parse(encodeSignalCleared(ch, 'typing', clean))).toMatchObject({ cleared: true, info: clean });
        const pub = { channel: ch, offset: 1, epoch: text, data: dataJson, info: clean, time: 5 };
        expect(JSON.parse(encodePub(pub))).toMatchObject({ channel: ch, epoch: text, data: JSON.parse(dataJson), info: clean });
        expect(JSON.parse(subscribeResultJson(outcome(ch))).channel).toBe(ch);
        const own = `#${channelUserId(user) ?? 'x'}`;
        const reply = { client: text, user, ping: 25, pong: 10, subs: [outcome(ch), { channel: ch, error: { code: 103, message: text } }], serverSubs: [outcome(own)], session: text };
        expect(JSON.parse(encodeConnectResult(reply))).toMatchObject({ client: text, user, session: text, serverSubs: [{ channel: own }] });
      }),
      { numRuns: 1500 },
    );
  });
});
