/** Connection lifecycle: server pings, pong timeout, graceful drain, rate and channel limits. */
import { describe, expect, it } from 'vitest';
import { RawPeer, connectedPeer, startTestGateway, until } from './helpers.js';

describe('connection lifecycle', () => {
  it('pings, keeps a client that answers, and closes one that does not with 3012', async () => {
    const t = await startTestGateway({ client: { pingInterval: 0.2, pongTimeout: 0.3 } });
    try {
      const good = await connectedPeer(t, 'good');
      good.ws.on('message', (d) => {
        if (JSON.parse(d.toString()).type === 'ping') good.ws.send('{"method":"pong"}');
      });
      const mute = await connectedPeer(t, 'mute');
      await mute.waitFor((f) => f.type === 'ping', 3000);
      expect((await mute.closed).code).toBe(3012);
      await until(() => good.frames.filter((f) => f.type === 'ping').length >= 3, 5000, 'several pings');
      expect(good.ws.readyState).toBe(good.ws.OPEN);
      good.close();
    } finally {
      await t.close();
    }
  });

  it('drains on close: every client is told to reconnect (3001), new ones are refused', async () => {
    const t = await startTestGateway();
    const peers = await Promise.all(Array.from({ length: 20 }, (_, i) => connectedPeer(t, `d${i}`)));
    const closing = t.gw.close(5000);
    const codes = await Promise.all(peers.map((p) => p.closed.then((c) => c.code)));
    expect(new Set(codes)).toEqual(new Set([3001]));
    for (const p of peers) expect(p.frames.find((f) => f.type === 'disconnect')).toMatchObject({ code: 3001, reconnect: true });
    await closing;
    const late = new RawPeer(t.wsUrl);
    expect((await late.closed).code).toBe(1006);
  });

  it('answers a command flood with 111 and keeps the connection while it stays near the limit', async () => {
    const t = await startTestGateway({ client: { commandRate: 10, commandBurst: 20 } });
    try {
      const p = await connectedPeer(t, 'flood');
      for (let i = 0; i < 30; i++) p.ws.send(JSON.stringify({ id: 100 + i, method: 'history', params: { channel: 'x' } }));
      await until(() => p.frames.filter((f) => f.id >= 100).length === 30, 5000, 'replies');
      const limited = p.frames.filter((f) => f.error?.code === 111);
      expect(limited.length).toBeGreaterThanOrEqual(9);
      expect(limited[0].error.temporary).toBe(true);
      expect(p.ws.readyState).toBe(p.ws.OPEN);
      p.close();
    } finally {
      await t.close();
    }
  });

  it('answers WebSocket pings with their payload, and cuts a ping flood with 3013', async () => {
    const t = await startTestGateway({ client: { commandRate: 10, commandBurst: 20 } });
    try {
      const p = await connectedPeer(t, 'pinger');
      const pongs: string[] = [];
      p.ws.on('pong', (d) => pongs.push(d.toString()));
      p.ws.ping('hello');
      await until(() => pongs.length === 1, 5000, 'pong');
      expect(pongs[0]).toBe('hello');
      const other = await connectedPeer(t, 'bystander');
      for (let i = 0; i < 200; i++) p.ws.ping(String(i));
      expect((await p.closed).code).toBe(3013);
      expect(pongs.length).toBeLessThan(60); // about the burst, never one per ping
      expect((await other.call('history', { channel: 'x' })).error?.code).not.toBe(111);
      other.close();
    } finally {
      await t.close();
    }
  });

  it('answers a ping sent just before the client closes, before its own close frame', async () => {
    const t = await startTestGateway();
    try {
      const p = await connectedPeer(t, 'leaving');
      const order: string[] = [];
      p.ws.on('pong', (d) => order.push(`pong:${d.toString()}`));
      p.ws.on('close', () => order.push('close'));
      p.ws.ping('bye');
      p.ws.close(1000);
      await p.closed;
      await until(() => order.includes('close'), 5000, 'close');
      expect(order).toEqual(['pong:bye', 'close']);
    } finally {
      await t.close();
    }
  });

  it('limits subscriptions per connection with 106', async () => {
    const t = await startTestGateway({ client: { channelLimit: 3 } });
    try {
      const p = await connectedPeer(t, 'many'); // the personal channel is owed by the server and does not count (issue 13, hole 6)
      expect((await p.call('subscribe', { channel: 'a' })).result).toBeDefined();
      expect((await p.call('subscribe', { channel: 'b' })).result).toBeDefined();
      expect((await p.call('subscribe', { channel: 'c' })).result).toBeDefined();
      expect((await p.call('subscribe', { channel: 'd' })).error.code).toBe(106);
      p.close();
    } finally {
      await t.close();
    }
  });

  it('refuses a second connect and an unsupported protocol version', async () => {
    const t = await startTestGateway();
    try {
      const p = await connectedPeer(t, 'twice');
      expect((await p.call('connect', { token: await t.token('twice') })).error.code).toBe(107);
      p.close();
      const old = await new RawPeer(t.wsUrl).open();
      old.ws.send(JSON.stringify({ id: 1, method: 'connect', params: { token: await t.token('v2'), protocol: 2 } }));
      expect((await old.closed).code).toBe(3510);
    } finally {
      await t.close();
    }
  });
});
