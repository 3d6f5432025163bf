/**
 * Pusher sockets count toward the node's connection caps (limits.*) like
 * WebSocket and SSE connections: one address cannot get around
 * maxConnectionsPerAddress by using /app/{key}.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type TestGateway, connectedPeer, until } from './helpers.js';
import { APP, startPusherGateway } from './pusher-helpers.js';

let t: TestGateway | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** The HTTP status of a refused upgrade, or 101 once the Pusher socket is open. */
function pusherUpgrade(port: number, opened: WebSocket[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/app/${APP.key}?protocol=7`);
    ws.once('open', () => {
      opened.push(ws);
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', (err) => reject(err));
  });
}

describe('Pusher sockets and the connection caps', () => {
  it('share maxConnectionsPerAddress with native connections: 429 past it, admitted again once one closes', async () => {
    t = await startPusherGateway({}, { limits: { maxConnectionsPerAddress: 2 } });
    const native = await connectedPeer(t, 'ann');
    const opened: WebSocket[] = [];
    expect(await pusherUpgrade(t.port, opened)).toBe(101);
    expect(await pusherUpgrade(t.port, opened)).toBe(429);
    native.close();
    await until(() => t!.gw.connections === 1, 10_000, 'the native connection closed');
    // The released slot may take the server a moment to see: retry within a bound.
    let status = 0;
    for (let i = 0; i < 20 && status !== 101; i++) {
      status = await pusherUpgrade(t.port, opened);
      if (status !== 101) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(101);
    for (const ws of opened) ws.close();
  });
});
