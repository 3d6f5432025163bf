/** SDK features against a real gateway: token refresh, RPC, presence/history, JWKS keys, terminal errors. */
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@tidings/client';
import { RpcError, signToken } from '@tidings/server';
import { SECRET, type TestGateway, startTestGateway, until } from './helpers.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({
    token: { hmacSecret: SECRET, leeway: 0 },
    namespaces: { '': {}, chat: { publish: 'subscribers', presence: true } },
  });
  t.gw.rpc('sum', (data, ctx) => ({ total: (data as number[]).reduce((a, b) => a + b, 0), user: ctx.user }));
  t.gw.rpc('deny', () => {
    throw new RpcError(403, 'not for you');
  });
  t.gw.rpc('crash', () => {
    throw new Error('boom');
  });
});
afterAll(() => t.close());

describe('client SDK features', () => {
  it('refreshes a short-lived token through getToken and stays connected', async () => {
    let issued = 0;
    const client = createClient({
      url: t.wsUrl,
      getToken: () => {
        issued++;
        return signToken(SECRET, { sub: 'short', ttlSeconds: 2 });
      },
    });
    const drops: number[] = [];
    client.on('disconnected', (e: { code: number }) => void drops.push(e.code));
    client.connect();
    await client.ready();
    await until(() => issued >= 3, 8000, 'two refreshes');
    expect(drops).toEqual([]);
    expect(client.state).toBe('connected');
    client.disconnect();
  });

  it('calls RPC methods and gets typed errors back', async () => {
    const client = createClient({ url: t.wsUrl, getToken: () => t.token('rpc-user') });
    client.connect();
    await client.ready();
    expect((await client.rpc('sum', [1, 2, 3])).data).toEqual({ total: 6, user: 'rpc-user' });
    await expect(client.rpc('deny')).rejects.toMatchObject({ code: 403, message: 'not for you' });
    await expect(client.rpc('crash')).rejects.toMatchObject({ code: 114 });
    await expect(client.rpc('missing')).rejects.toMatchObject({ code: 104 });
    expect(t.gw.connections).toBeGreaterThan(0); // a crashing handler did not take anything down
    client.disconnect();
  });

  it('publishes from clients, reads presence and history', async () => {
    const a = createClient({ url: t.wsUrl, getToken: () => t.token('ann') });
    const b = createClient({ url: t.wsUrl, getToken: () => t.token('ben') });
    const got: unknown[] = [];
    const subA = a.subscribe('chat:room', { onPublication: (p) => void got.push(p.data) });
    const subB = b.subscribe('chat:room');
    a.connect();
    b.connect();
    await Promise.all([subA.ready(5000), subB.ready(5000)]);
    const pos = await subB.publish({ text: 'hello' });
    expect(pos.offset).toBe(1);
    await until(() => got.length === 1);
    expect(got[0]).toEqual({ text: 'hello' });
    const presence = await a.presence('chat:room');
    expect(presence.clients.map((c) => c.user).sort()).toEqual(['ann', 'ben']);
    const history = await a.history('chat:room', { limit: 10 });
    expect(history.publications.map((p) => p.data)).toEqual([{ text: 'hello' }]);
    await expect(a.publish('news', 1)).rejects.toMatchObject({ code: 103 });
    a.disconnect();
    b.disconnect();
  });

  it('fails without retrying when the token had expired', async () => {
    const before = t.gw.stats().handshakes;
    const client = createClient({ url: t.wsUrl, getToken: () => signToken(SECRET, { sub: 'late', ttlSeconds: -10 }), minReconnectDelay: 20 });
    const failed = new Promise<{ code: number }>((r) => client.on('failed', (e: { code: number }) => r(e)));
    client.connect();
    expect((await failed).code).toBe(3502);
    await new Promise((r) => setTimeout(r, 300));
    expect(t.gw.stats().handshakes - before).toBe(1);
  });

  it('verifies tokens against a JWKS URL', async () => {
    const { generateKeyPair, exportJWK, SignJWT } = await import('jose');
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    const jwks = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(jwks.address() as { port: number }).port}/jwks.json`;
    const gw = await startTestGateway({ token: { jwksUrl: url, algorithms: ['ES256'] } });
    try {
      const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('jwks-user').setExpirationTime('5m').sign(privateKey);
      const client = createClient({ url: gw.wsUrl, token });
      client.connect();
      await client.ready();
      expect(client.session?.user).toBe('jwks-user');
      client.disconnect();
    } finally {
      await gw.close();
      jwks.close();
    }
  });
});
