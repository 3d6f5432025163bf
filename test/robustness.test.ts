/**
 * Bad input through a live socket: malformed JSON, random bytes, oversize
 * frames, unknown methods. The server answers with documented errors, stays
 * up, and other clients miss nothing.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { API_KEY, RawPeer, type TestGateway, connectedPeer, startTestGateway, until } from './helpers.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ client: { maxMessageBytes: 4096 } });
});
afterAll(() => t.close());

async function bystander() {
  const peer = await connectedPeer(t, 'bystander');
  const reply = await peer.call('subscribe', { channel: 'calm' });
  expect(reply.result.channel).toBe('calm');
  return peer;
}

async function expectBystanderGets(peer: RawPeer, n: number) {
  const base = peer.frames.filter((f) => f.type === 'pub').length;
  for (let i = 0; i < n; i++) await t.publish('calm', { i });
  await until(() => peer.frames.filter((f) => f.type === 'pub').length === base + n, 10_000, 'bystander publications');
  const offsets = peer.frames.filter((f) => f.type === 'pub').map((f) => f.offset);
  for (let i = 1; i < offsets.length; i++) expect(offsets[i]).toBe(offsets[i - 1] + 1);
}

describe('bad input on a live socket', () => {
  it('answers malformed JSON and binary frames with error pushes, then closes with 3501 after too many', async () => {
    const calm = await bystander();
    const peer = await connectedPeer(t, 'mallory');
    peer.sendRaw('{not json');
    const err = await peer.waitFor((f) => f.type === 'error');
    expect(err.error.code).toBe(107);
    peer.sendRaw(Buffer.from([0xde, 0xad, 0xbe, 0xef]), true);
    await until(() => peer.frames.filter((f) => f.type === 'error').length === 2);
    for (let i = 0; i < 12; i++) peer.sendRaw('[]');
    expect((await peer.closed).code).toBe(3501);
    await expectBystanderGets(calm, 20);
    calm.close();
  });

  it('replies with a code to bad commands that have an id', async () => {
    const peer = await connectedPeer(t, 'pat');
    expect((await peer.call('nope')).error.code).toBe(104);
    expect((await peer.call('subscribe', { channel: 'has space' })).error.code).toBe(102);
    expect((await peer.call('subscribe', {})).error.code).toBe(102);
    expect((await peer.call('publish', { channel: 'x' })).error.code).toBe(107);
    expect((await peer.call('history', { channel: 'x', limit: -1 })).error.code).toBe(107);
    expect((await peer.call('connect', {})).error.code).toBe(107);
    peer.close();
  });

  it('refuses commands before connect with 110', async () => {
    const peer = await new RawPeer(t.wsUrl).open();
    expect((await peer.call('subscribe', { channel: 'a' })).error.code).toBe(110);
    peer.close();
  });

  it('closes an oversize frame with 1009 and nothing else is hurt', async () => {
    const calm = await bystander();
    const peer = await connectedPeer(t, 'big');
    peer.sendRaw(JSON.stringify({ id: 9, method: 'publish', params: { channel: 'x', data: 'x'.repeat(10_000) } }));
    expect((await peer.closed).code).toBe(1009);
    await expectBystanderGets(calm, 5);
    calm.close();
  });

  it('survives a fuzzed stream of random frames from many sockets', async () => {
    const calm = await bystander();
    const frames = fc.sample(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.jsonValue().map((v) => JSON.stringify(v)),
        fc.record({ id: fc.integer(), method: fc.constantFrom('connect', 'subscribe', 'publish', 'history', 'presence', 'rpc', 'refresh', 'pong'), params: fc.anything() }).map((v) => JSON.stringify(v) ?? 'null'),
      ),
      600,
    );
    const peers = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? connectedPeer(t, `fuzz${i}`) : new RawPeer(t.wsUrl).open())));
    frames.forEach((f, i) => {
      const p = peers[i % peers.length]!;
      if (p.ws.readyState === p.ws.OPEN) p.sendRaw(f);
    });
    await new Promise((r) => setTimeout(r, 300));
    for (const p of peers) {
      for (const f of p.frames) {
        if (f.type === 'error') expect([104, 107, 102]).toContain(f.error.code);
        if (f.type === 'disconnect') expect([3501, 3500, 3013]).toContain(f.code);
      }
      p.close();
    }
    const health = await fetch(`${t.httpUrl}/health`);
    expect(health.status).toBe(200);
    await expectBystanderGets(calm, 20);
    calm.close();
  });

  it('rejects upgrades on other paths and bad API calls with JSON errors', async () => {
    const wrong = new RawPeer(t.wsUrl.replace('/ws', '/nope'));
    expect((await wrong.closed).code).toBe(1006);
    const noKey = await fetch(`${t.httpUrl}/api/publish`, { method: 'POST', body: '{}' });
    expect(noKey.status).toBe(401);
    expect((await noKey.json()).error.code).toBe(101);
    expect((await t.api('/api/publish', '{broken')).status).toBe(400);
    const missing = await t.api('/api/publish', { channel: 'a' });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/data/);
    expect((await t.api('/api/publish', { channel: 'bad name', data: 1 })).status).toBe(400);
    expect((await t.api('/api/nothing', {})).status).toBe(404);
    const huge = await t.api('/api/publish', { channel: 'a', data: 'x'.repeat(2_000_000) });
    expect(huge.status).toBe(413);
  });

  it('answers 413 to an oversize body sent without a length (chunked), and keeps serving', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${t.httpUrl}/api/publish`, { method: 'POST', headers: { authorization: `apikey ${API_KEY}`, 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('{"channel":"a","data":"');
      for (let i = 0; i < 40; i++) req.write('x'.repeat(64 * 1024)); // 2.5 MB against the 1 MiB default
      req.end('"}');
    });
    expect(status).toBe(413);
    expect((await t.api('/api/publish', { channel: 'a', data: 1 })).status).toBe(200);
  });
});
