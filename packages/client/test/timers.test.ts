/** Liveness and token timers, with fake time. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ClientOptions, createClient } from '../src/index.js';
import { FakeSocket } from './fake-socket.js';

function makeClient(opts: Partial<ClientOptions> = {}) {
  return createClient({ url: 'ws://test/ws', WebSocket: FakeSocket, getToken: () => 'tok', minReconnectDelay: 100, maxReconnectDelay: 100, ...opts });
}

beforeEach(() => {
  FakeSocket.reset();
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('timers', () => {
  it('reconnects when the server goes silent for ping + pong + maxServerPingDelay', async () => {
    const c = makeClient({ maxServerPingDelay: 500 });
    c.connect();
    await vi.advanceTimersByTimeAsync(0);
    await FakeSocket.last().accept({ ping: 1, pong: 1 });
    const ws = FakeSocket.last();
    await vi.advanceTimersByTimeAsync(2000);
    ws.push({ type: 'ping' }); // any frame counts as a sign of life
    await vi.advanceTimersByTimeAsync(2400);
    expect(c.state).toBe('connected');
    await vi.advanceTimersByTimeAsync(200);
    expect(c.state).toBe('connecting');
    expect(ws.closedWith).toBeDefined();
    await vi.advanceTimersByTimeAsync(200);
    expect(FakeSocket.instances).toHaveLength(2);
    c.disconnect();
  });

  it('gives the handshake `timeout` ms, then tries again', async () => {
    const c = makeClient({ timeout: 1000 });
    c.connect();
    await vi.advanceTimersByTimeAsync(999);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(c.state).toBe('connecting');
    await vi.advanceTimersByTimeAsync(1 + 200);
    expect(FakeSocket.instances).toHaveLength(2);
    c.disconnect();
  });

  it('refreshes the token before it expires, and again with the new ttl', async () => {
    let n = 0;
    const c = makeClient({ getToken: () => `tok${++n}` });
    c.connect();
    await vi.advanceTimersByTimeAsync(0);
    const ws = FakeSocket.last();
    await ws.accept({ ttl: 30 });
    await vi.advanceTimersByTimeAsync(19_900);
    expect(ws.commands('refresh')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(200);
    expect(ws.command('refresh').params).toEqual({ token: 'tok2' });
    ws.reply(ws.command('refresh').id, { ttl: 3 });
    await vi.advanceTimersByTimeAsync(2100);
    expect(ws.commands('refresh')).toHaveLength(2);
    c.disconnect();
  });

  it('a command with no reply rejects after `timeout` as temporary', async () => {
    const c = makeClient({ timeout: 500 });
    c.connect();
    await vi.advanceTimersByTimeAsync(0);
    await FakeSocket.last().accept();
    const p = c.publish('news', 1);
    const check = expect(p).rejects.toMatchObject({ temporary: true, message: 'publish timed out' });
    await vi.advanceTimersByTimeAsync(500);
    await check;
    c.disconnect();
  });
});
