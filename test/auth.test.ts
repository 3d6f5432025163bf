/** JWT at connect: every bad token is refused with its documented close code. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '@tidings/server';
import { RawPeer, SECRET, type TestGateway, startTestGateway } from './helpers.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ token: { hmacSecret: SECRET, audience: 'tidings-test', leeway: 5 } });
});
afterAll(() => t.close());

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

async function connectWith(token: string | undefined) {
  const peer = await new RawPeer(t.wsUrl).open();
  peer.ws.send(JSON.stringify({ id: 1, method: 'connect', params: token === undefined ? {} : { token } }));
  const closed = await peer.closed;
  const push = peer.frames.find((f) => f.type === 'disconnect');
  return { closed, push };
}

describe('connect authentication', () => {
  it('accepts a good token and tells the ttl', async () => {
    const peer = await new RawPeer(t.wsUrl).open();
    const reply = await peer.call('connect', { token: await signToken(SECRET, { sub: 'alice', ttlSeconds: 600, audience: 'tidings-test' }) });
    expect(reply.result.user).toBe('alice');
    expect(reply.result.ttl).toBeGreaterThan(590);
    expect(reply.result.serverSubs.map((s: any) => s.channel)).toEqual(['#alice']);
    peer.close();
  });

  it.each([
    ['a bad signature', () => signToken('another-secret-0123456789-abcdefghijkl', { sub: 'a', ttlSeconds: 60, audience: 'tidings-test' }), 3500],
    ['an expired token', () => signToken(SECRET, { sub: 'a', ttlSeconds: -60, audience: 'tidings-test' }), 3502],
    ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'a', aud: 'tidings-test' })}.`, 3500],
    ['a wrong audience', () => signToken(SECRET, { sub: 'a', ttlSeconds: 60, audience: 'someone-else' }), 3500],
    ['no sub', async () => (await signToken(SECRET, { sub: 'x', ttlSeconds: 60, audience: 'tidings-test' })).replace(/^([^.]+)\.[^.]+/, `$1.${b64({ aud: 'tidings-test' })}`), 3500],
    ['garbage', async () => 'not-a-jwt', 3500],
    ['a missing token', async () => undefined, 3500],
  ])('refuses %s with close code %i', async (_name, make, code) => {
    const { closed, push } = await connectWith(await make());
    expect(closed.code).toBe(code);
    expect(push).toMatchObject({ type: 'disconnect', code, reconnect: false });
  });

  it('refuses an HS256 token when only RS256 is allowed (no algorithm confusion)', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const rs = await startTestGateway({ token: { publicKey: pem, algorithms: ['RS256'] } });
    try {
      // The classic attack: HMAC-sign with the public key's bytes.
      const forged = await signToken(pem, { sub: 'mallory', ttlSeconds: 60 });
      const peer = await new RawPeer(rs.wsUrl).open();
      peer.ws.send(JSON.stringify({ id: 1, method: 'connect', params: { token: forged } }));
      expect((await peer.closed).code).toBe(3500);
    } finally {
      await rs.close();
    }
  });

  it('accepts RS256 and ES256 tokens from the configured public key', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { SignJWT, importPKCS8 } = await import('jose');
    for (const [alg, kind, opts] of [
      ['RS256', 'rsa', { modulusLength: 2048 }],
      ['ES256', 'ec', { namedCurve: 'P-256' }],
    ] as const) {
      const { publicKey, privateKey } = generateKeyPairSync(kind as 'rsa', opts as { modulusLength: number });
      const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const gw = await startTestGateway({ token: { publicKey: pem, algorithms: [alg] } });
      try {
        const key = await importPKCS8(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), alg);
        const token = await new SignJWT({}).setProtectedHeader({ alg }).setSubject('carol').setExpirationTime('5m').sign(key);
        const peer = await new RawPeer(gw.wsUrl).open();
        const reply = await peer.call('connect', { token });
        expect(reply.result.user).toBe('carol');
        peer.close();
      } finally {
        await gw.close();
      }
    }
  });

  it('closes a connection that never sends connect (stale)', async () => {
    const fast = await startTestGateway({ client: { connectTimeout: 0.3 } });
    try {
      const peer = await new RawPeer(fast.wsUrl).open();
      expect((await peer.closed).code).toBe(3014);
    } finally {
      await fast.close();
    }
  });

  it('asks for a refresh before expiry and closes with 3005 if none comes', async () => {
    const gw = await startTestGateway({ token: { hmacSecret: SECRET, leeway: 0 } });
    try {
      const peer = await new RawPeer(gw.wsUrl).open();
      const reply = await peer.call('connect', { token: await signToken(SECRET, { sub: 'dave', ttlSeconds: 2 }) });
      expect(reply.result.ttl).toBeLessThanOrEqual(2);
      const ask = await peer.waitFor((f) => f.type === 'refresh', 5000);
      expect(ask.ttl).toBeGreaterThanOrEqual(0);
      expect((await peer.closed).code).toBe(3005);
    } finally {
      await gw.close();
    }
  });

  it('keeps a connection that refreshes its token', async () => {
    const gw = await startTestGateway({ token: { hmacSecret: SECRET, leeway: 0 } });
    try {
      const peer = await new RawPeer(gw.wsUrl).open();
      await peer.call('connect', { token: await signToken(SECRET, { sub: 'erin', ttlSeconds: 2 }) });
      await peer.waitFor((f) => f.type === 'refresh', 5000);
      const other = await peer.call('refresh', { token: await signToken(SECRET, { sub: 'mallory', ttlSeconds: 60 }) });
      expect(other.error.code).toBe(101);
      const ok = await peer.call('refresh', { token: await signToken(SECRET, { sub: 'erin', ttlSeconds: 60 }) });
      expect(ok.result.ttl).toBeGreaterThan(50);
      await new Promise((r) => setTimeout(r, 2500));
      expect(peer.ws.readyState).toBe(peer.ws.OPEN);
      peer.close();
    } finally {
      await gw.close();
    }
  });
});
