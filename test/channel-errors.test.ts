/**
 * A malformed channel name gets the same answer everywhere: code 102 (as
 * docs/protocol.md says) and a message that says which names are allowed, from
 * the HTTP API, a WebSocket command, the client SDK and the CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@tidings/client';
import { API_KEY, type TestGateway, connectedPeer, startTestGateway } from './helpers.js';
import { runCli } from './run-process.js';

const RULE = /1–255 characters of A-Z a-z 0-9 _ \. : # , @ = - \//;

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t.close());

describe('a malformed channel name', () => {
  it('HTTP API: 400 with code 102 and the rule', async () => {
    for (const path of ['/api/publish', '/api/history', '/api/presence']) {
      const r = await t.api(path, { channel: 'bad channel!', data: 1 });
      expect(r.status, path).toBe(400);
      expect(r.body.error.code, path).toBe(102);
      expect(r.body.error.message, path).toMatch(RULE);
    }
    const broadcast = await t.api('/api/broadcast', { channels: ['ok', 'no spaces'], data: 1 });
    expect(broadcast.body.error).toMatchObject({ code: 102 });
  });

  it('WebSocket subscribe: error 102 and the rule', async () => {
    const peer = await connectedPeer(t, 'ws-user');
    const reply = await peer.call('subscribe', { channel: 'bad channel!' });
    expect(reply.error.code).toBe(102);
    expect(reply.error.message).toMatch(RULE);
    peer.close();
  });

  it('client SDK: subscribe throws 102 with the rule', () => {
    const client = createClient({ url: t.wsUrl, token: 'unused' });
    expect(() => client.subscribe('bad channel!')).toThrow(RULE);
    try {
      client.subscribe('bad channel!');
    } catch (err) {
      expect((err as { code: number }).code).toBe(102);
    }
  });

  it('CLI: publish exits 1 with the gateway\'s message; subscribe exits 2 with the rule', async () => {
    const pub = await runCli(['publish', 'bad channel!', '{}', '--url', t.httpUrl, '--api-key', API_KEY]);
    expect(pub.code).toBe(1);
    expect(pub.stderr).toMatch(RULE);
    const sub = await runCli(['subscribe', 'bad channel!', '--url', t.wsUrl, '--token', 'unused']);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toMatch(RULE);
  });
});
