/**
 * Forged tokens and foreign pages (issue 13's attack list): each attempt is
 * refused with its documented code while an honest subscriber on another
 * connection receives every publication, and the gateway's heap (a child
 * process, measured after GC) comes back to within 10%.
 */
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import { type JWK, SignJWT, exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { signToken } from '@tidings/server';
import { SECRET } from './helpers.js';
import { type Target, connectWith, inBatches, startTarget, underAttack } from './security-harness.js';

// Each attack runs twice (see underAttack), on a machine other tests share.
vi.setConfig({ testTimeout: 60_000 });

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const inAMinute = () => Math.floor(Date.now() / 1000) + 60;

/** A token with any header, HMAC-signed with `key` (or unsigned when `key` is undefined). */
function handMade(header: object, claims: object, key?: Buffer | string, hash = 'sha256'): string {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${key === undefined ? '' : createHmac(hash, key).update(input).digest('base64url')}`;
}

/** Every upper/lower-case spelling of `word`. */
function casings(word: string): string[] {
  return Array.from({ length: 2 ** word.length }, (_, bits) =>
    [...word].map((c, i) => (bits & (1 << i) ? c.toUpperCase() : c)).join(''),
  );
}

/** Each token refused with `code` and a terminal disconnect push. */
async function allRefused(t: Target, tokens: string[], code: number): Promise<void> {
  const outcomes = await inBatches(tokens.length, 25, (i) => connectWith(t.wsUrl, tokens[i]!));
  for (const o of outcomes) {
    expect(o.reply).toBeUndefined();
    expect(o.code).toBe(code);
    expect(o.push).toMatchObject({ type: 'disconnect', code, reconnect: false });
  }
}

describe('alg none and wrong claims, against an HMAC secret with audience and issuer', () => {
  const claimsFor = (sub: string) => ({ sub, aud: 'tidings', iss: 'https://auth.example', exp: inAMinute() });
  let t: Target;
  beforeAll(async () => {
    t = await startTarget({ token: { hmacSecret: SECRET, audience: 'tidings', issuer: 'https://auth.example' } }, async (sub) =>
      handMade({ alg: 'HS256', typ: 'JWT' }, claimsFor(sub), SECRET),
    );
  });
  afterAll(() => t?.close());

  it('refuses alg "none" in every casing, unsigned or with a signature, with 3500', async () => {
    const spellings = casings('none');
    expect(spellings).toHaveLength(16);
    const tokens = spellings.flatMap((alg) => [
      handMade({ alg, typ: 'JWT' }, claimsFor('mallory')),
      handMade({ alg, typ: 'JWT' }, claimsFor('mallory'), SECRET),
    ]);
    await underAttack(t, () => allRefused(t, [...tokens, ...tokens, ...tokens], 3500));
  });

  it('refuses a wrong, missing or differently spelled audience or issuer with 3500', async () => {
    const good = claimsFor('mallory');
    const forged = [
      { ...good, aud: 'someone-else' },
      { ...good, aud: ['someone-else', 'another'] },
      { ...good, aud: 'Tidings' },
      { ...good, aud: undefined },
      { ...good, iss: 'https://evil.example' },
      { ...good, iss: 'https://auth.example/' },
      { ...good, iss: undefined },
      { ...good, aud: 'someone-else', iss: 'https://evil.example' },
    ].map((claims) => handMade({ alg: 'HS256', typ: 'JWT' }, claims, SECRET));
    const control = await connectWith(t.wsUrl, handMade({ alg: 'HS256', typ: 'JWT' }, { ...good, aud: ['x', 'tidings'] }, SECRET));
    expect(control.reply.result.user).toBe('mallory');
    await underAttack(t, () => allRefused(t, Array.from({ length: 10 }, () => forged).flat(), 3500));
  });
});

describe('algorithm confusion, against an RSA public key with the default algorithms', () => {
  let t: Target;
  let pem: string;
  let der: Buffer;
  let privateKey: KeyObject;
  beforeAll(async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    privateKey = pair.privateKey;
    pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    der = pair.publicKey.export({ type: 'spki', format: 'der' });
    t = await startTarget({ token: { publicKey: pem } }, (sub) =>
      new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject(sub).setExpirationTime('5m').sign(privateKey),
    );
  });
  afterAll(() => t?.close());

  it('refuses HS256/384/512 tokens signed with the public key (PEM, trimmed PEM, DER) with 3500', async () => {
    const claims = { sub: 'mallory', exp: inAMinute() };
    const keys: Array<Buffer | string> = [pem, pem.trim(), der];
    const tokens = keys.flatMap((key) =>
      (['sha256', 'sha384', 'sha512'] as const).map((hash, i) => handMade({ alg: `HS${256 + 128 * i}`, typ: 'JWT' }, claims, key, hash)),
    );
    tokens.push(await signToken(pem, { sub: 'mallory', ttlSeconds: 60 }));
    await underAttack(t, () => allRefused(t, Array.from({ length: 10 }, () => tokens).flat(), 3500));
  });

  it('refuses alg "none" in every casing here too', async () => {
    const tokens = casings('none').map((alg) => handMade({ alg }, { sub: 'mallory', exp: inAMinute() }));
    await underAttack(t, () => allRefused(t, [...tokens, ...tokens], 3500));
  });
});

describe('unknown kid, against a JWKS on 127.0.0.1', () => {
  let t: Target;
  let jwks: Server;
  let fetches = 0;
  const known = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const sign = (key: KeyObject, kid: string, sub: string) =>
    new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid }).setSubject(sub).setExpirationTime('5m').sign(key);

  beforeAll(async () => {
    const jwk: JWK = { ...(await exportJWK(known.publicKey)), kid: 'current', alg: 'ES256', use: 'sig' };
    jwks = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(jwks.address() as { port: number }).port}/jwks.json`;
    t = await startTarget({ token: { jwksUrl: url } }, (sub) => sign(known.privateKey, 'current', sub));
  });
  afterAll(async () => {
    await t?.close();
    jwks?.close();
  });

  it('refuses tokens with an unknown kid, or a known kid and a stranger key, with 3500, without fetching the set per token', async () => {
    const fetchesBefore = fetches;
    const tokens = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        i % 3 === 0 ? sign(stranger.privateKey, `rotated-${i}`, 'mallory') : i % 3 === 1 ? sign(stranger.privateKey, 'current', 'mallory') : sign(known.privateKey, `k${i}`, 'mallory'),
      ),
    );
    await underAttack(t, () => allRefused(t, tokens, 3500));
    // An unknown kid refetches the set at most once per cooldown (30 s), not once per token.
    expect(fetches - fetchesBefore).toBeLessThanOrEqual(2);
    const control = await connectWith(t.wsUrl, await sign(known.privateKey, 'current', 'carol'));
    expect(control.reply.result.user).toBe('carol');
  });
});

describe('a foreign Origin, with allowedOrigins set', () => {
  const APP = 'https://app.example';
  let t: Target;
  beforeAll(async () => {
    t = await startTarget({ token: { hmacSecret: SECRET }, client: { allowedOrigins: [APP] } }, (sub) => signToken(SECRET, { sub, ttlSeconds: 600 }), APP);
  });
  afterAll(() => t?.close());

  /** The HTTP status a WebSocket upgrade from `origin` gets (101 when it opens). */
  function upgradeStatus(origin: string | undefined): Promise<number> {
    return new Promise((resolve) => {
      const ws = new WebSocket(t.wsUrl, origin === undefined ? {} : { origin });
      ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.once('open', () => {
        resolve(101);
        ws.close();
      });
      ws.once('error', () => {});
    });
  }

  it('answers 403 to WebSocket upgrades and SSE streams from other origins, and still lets the app in', async () => {
    expect(await upgradeStatus(APP)).toBe(101);
    const foreign = ['https://evil.example', 'https://app.example.evil.example', 'HTTPS://APP.EXAMPLE', 'https://app.example:443', 'null', 'http://app.example'];
    const statuses = await underAttack(t, () =>
      inBatches(foreign.length * 20, 20, async (i) => {
        const origin = foreign[i % foreign.length]!;
        const ws = await upgradeStatus(origin);
        const sse = await fetch(`${t.httpUrl}/sse`, { headers: { origin } });
        await sse.body?.cancel();
        return [ws, sse.status];
      }),
    );
    expect(new Set(statuses.flat())).toEqual(new Set([403]));
  });

  it('refuses a WebSocket upgrade without an Origin (browsers always send one; a listed origin is required)', async () => {
    const statuses = await underAttack(t, () => inBatches(40, 20, () => upgradeStatus(undefined)));
    expect(new Set(statuses)).toEqual(new Set([403]));
  });
});
