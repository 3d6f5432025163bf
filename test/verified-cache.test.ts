/**
 * Public-key tokens verified once are served from a bounded cache on the
 * next connects: a hit returns the same claims, an expired token is refused
 * even when cached, a token that differs by one character is checked in full
 * (and refused), and the cache never grows past its bound.
 */
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, importPKCS8 } from 'jose';
import { describe, expect, it } from 'vitest';
import { makeConfig } from '@tidings/server';
import { TokenVerifier } from '../packages/server/dist/auth/verifier.js';
import { VERIFIED_CACHE_LIMITS, VerifiedTokenCache } from '../packages/server/dist/auth/verified-cache.js';

const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const signer = importPKCS8(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'ES256');
const sign = async (sub: string, expSeconds: number) =>
  new SignJWT({ channels: ['jobs:1'] }).setProtectedHeader({ alg: 'ES256' }).setSubject(sub).setExpirationTime(Math.floor(Date.now() / 1000) + expSeconds).sign(await signer);
const verifier = () => new TokenVerifier(makeConfig({ apiKey: 'verified-cache-test-key-0123456789', token: { publicKey: pem, algorithms: ['ES256'], leeway: 0 } }).token);

describe('the verified-token cache', () => {
  it('answers a second connect with the same token from the cache, with the same claims', async () => {
    const v = verifier();
    const token = await sign('alice', 60);
    const first = await v.verify(token);
    expect(v.verified.hits).toBe(0);
    const second = await v.verify(token);
    expect(v.verified.hits).toBe(1);
    expect(second).toEqual(first);
    expect(second.user).toBe('alice');
  });

  it('checks a changed token in full and refuses it', async () => {
    const v = verifier();
    const token = await sign('bob', 60);
    await v.verify(token);
    // A character inside the signature: the last one may carry unused bits, so changing it can leave the bytes equal.
    const i = token.lastIndexOf('.') + 10;
    const changed = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
    await expect(v.verify(changed)).rejects.toMatchObject({ code: 3500 });
    expect(v.verified.hits).toBe(0);
  });

  it('refuses a cached token once it has expired', async () => {
    const cache = new VerifiedTokenCache(0);
    const now = Date.now();
    cache.set('t', { sub: 'carol', exp: Math.floor(now / 1000) + 2 }, now);
    expect(cache.get('t', now)?.sub).toBe('carol');
    expect(cache.get('t', now + 2_500)).toBeUndefined();
    cache.set('u', { sub: 'dave' }, now); // no exp: kept at most the TTL
    expect(cache.get('u', now + VERIFIED_CACHE_LIMITS.TTL_MS - 1)?.sub).toBe('dave');
    expect(cache.get('u', now + VERIFIED_CACHE_LIMITS.TTL_MS + 1)).toBeUndefined();
  });

  it('stays within its bound and skips oversized tokens', () => {
    const cache = new VerifiedTokenCache(0);
    for (let i = 0; i < VERIFIED_CACHE_LIMITS.MAX_ENTRIES + 100; i++) cache.set(`token-${i}`, { sub: `u${i}` });
    expect(cache.size).toBe(VERIFIED_CACHE_LIMITS.MAX_ENTRIES);
    expect(cache.get('token-0')).toBeUndefined(); // the oldest went first
    expect(cache.get(`token-${VERIFIED_CACHE_LIMITS.MAX_ENTRIES + 99}`)?.sub).toBe(`u${VERIFIED_CACHE_LIMITS.MAX_ENTRIES + 99}`);
    expect(cache.keyOf('x'.repeat(VERIFIED_CACHE_LIMITS.MAX_TOKEN_BYTES + 1))).toBeUndefined();
    expect(cache.keyOf('x'.repeat(VERIFIED_CACHE_LIMITS.MAX_TOKEN_BYTES))).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
