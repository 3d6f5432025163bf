/**
 * Differential test: our synchronous HMAC JWT check (hmac-jwt.ts) must reach
 * jose's verdict (accept, expired, or invalid) on any token, with any options.
 * Tokens are signed here with node:crypto directly, so headers and payloads
 * jose's builders would refuse to make (alg none, arrays, bad claim types)
 * are covered too, then mutated.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { JwtRejected, verifyHmacJwt } from '../packages/server/dist/auth/hmac-jwt.js';

const SECRET = 'differential-secret-0123456789-abcdef';
const NOW = 1_800_000_000;
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const HASH: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

function sign(header: unknown, payload: unknown, secret: string, alg: string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const sig = createHmac(HASH[alg] ?? 'sha256', secret).update(input).digest('base64url');
  return `${input}.${sig}`;
}

type Verdict = 'ok' | 'expired' | 'invalid';

async function joseVerdict(token: string, opts: Options): Promise<Verdict> {
  try {
    await jwtVerify(token, new TextEncoder().encode(SECRET), {
      algorithms: opts.algorithms,
      clockTolerance: opts.tolerance,
      currentDate: new Date(NOW * 1000),
      ...(opts.audience ? { audience: opts.audience } : {}),
      ...(opts.issuer ? { issuer: opts.issuer } : {}),
    });
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code === 'ERR_JWT_EXPIRED' ? 'expired' : 'invalid';
  }
}

function ourVerdict(token: string, opts: Options): Verdict {
  try {
    verifyHmacJwt(
      token,
      {
        secret: new TextEncoder().encode(SECRET),
        algorithms: opts.algorithms,
        toleranceSeconds: opts.tolerance,
        ...(opts.audience ? { audience: opts.audience } : {}),
        ...(opts.issuer ? { issuer: opts.issuer } : {}),
      },
      NOW,
    );
    return 'ok';
  } catch (err) {
    if (!(err instanceof JwtRejected)) throw err;
    return err.expired ? 'expired' : 'invalid';
  }
}

interface Options {
  algorithms: string[];
  tolerance: number;
  audience?: string;
  issuer?: string;
}

const rarely = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 4 });

const options = fc
  .record({
    algorithms: fc.subarray(['HS256', 'HS384', 'HS512'], { minLength: 1 }),
    tolerance: fc.constantFrom(0, 30),
    audience: rarely(fc.constantFrom('app', 'app', 'app', 'other')),
    issuer: rarely(fc.constantFrom('auth', 'auth', 'auth', 'else')),
  })
  .map(({ audience, issuer, ...o }): Options => ({ ...o, ...(audience ? { audience } : {}), ...(issuer ? { issuer } : {}) }));

/** Mostly numbers around the boundaries (now, ± tolerance), sometimes the wrong type. */
const timeClaim = (min: number, max: number) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min, max }) },
    { weight: 3, arbitrary: fc.constantFrom(NOW, NOW - 30, NOW + 30, NOW - 31, NOW + 31, NOW + 3600, NOW - 3600) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>('soon', null, true, [NOW]) },
  );

const claims = fc.record(
  {
    sub: fc.constantFrom('alice', 42),
    exp: timeClaim(NOW - 60, NOW + 120),
    nbf: timeClaim(NOW - 120, NOW + 40),
    iat: timeClaim(NOW - 120, NOW + 40),
    aud: fc.oneof({ weight: 6, arbitrary: fc.constant<unknown>('app') }, { weight: 1, arbitrary: fc.constantFrom<unknown>('other', ['x', 'app'], ['x'], 7) }),
    iss: fc.oneof({ weight: 6, arbitrary: fc.constant<unknown>('auth') }, { weight: 1, arbitrary: fc.constantFrom<unknown>('else', 3) }),
  },
  { requiredKeys: ['aud', 'iss'] },
);

/** Mostly a proper header for the signing algorithm; sometimes a foreign or broken one. */
const header = (signAlg: string) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.record({ alg: fc.constant(signAlg), typ: fc.constantFrom('JWT', undefined) }, { requiredKeys: ['alg'] }) },
    { weight: 1, arbitrary: fc.record({ alg: fc.constantFrom('HS256', 'HS384', 'HS512', 'none', 'RS256', '', 7) }) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>([], 'HS256', null, {}) },
  );

const payload = fc.oneof({ weight: 12, arbitrary: claims }, { weight: 1, arbitrary: fc.constantFrom<unknown>([], 'text', 12, null) });

/** Now and then, one character replaced, inserted or appended (base64url alphabet or a dot). */
const mutation = fc.oneof(
  { weight: 9, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('replace', 'insert', 'append'), fc.nat(), fc.constantFrom(...'AZaz09-_.Q'.split(''))) },
);

/** A token and the options to check it with: most are well formed, so every verdict is exercised. */
const cases = fc.constantFrom('HS256', 'HS384', 'HS512').chain((signAlg) =>
  fc.record({
    token: fc
      .tuple(header(signAlg), payload, fc.oneof({ weight: 9, arbitrary: fc.constant(SECRET) }, { weight: 1, arbitrary: fc.constant('another-secret-0123456789-abcdef') }), mutation)
      .map(([h, p, secret, m]) => mutate(sign(h, p, secret, signAlg), m)),
    opts: fc
      .tuple(options, fc.nat(4))
      .map(([o, dice]) => (o.algorithms.includes(signAlg) || dice === 0 ? o : { ...o, algorithms: [...o.algorithms, signAlg] })),
  }),
);

function mutate(token: string, m: [string, number, string] | undefined): string {
  if (!m) return token;
  const [kind, at, ch] = m;
  const i = at % token.length;
  if (kind === 'append') return token + ch;
  return token.slice(0, i) + ch + token.slice(kind === 'insert' ? i : i + 1);
}

describe('HMAC JWT verification agrees with jose', () => {
  it('on generated tokens, signed right or wrong, and mutated', async () => {
    const seen: Record<Verdict, number> = { ok: 0, expired: 0, invalid: 0 };
    await fc.assert(
      fc.asyncProperty(cases, async ({ token, opts }) => {
        if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) return; // the caller refuses these first
        const verdict = await joseVerdict(token, opts);
        seen[verdict]++;
        expect(ourVerdict(token, opts)).toBe(verdict);
      }),
      { numRuns: 3000 },
    );
    // The generator must reach every verdict often, or agreeing would prove little.
    for (const v of ['ok', 'expired', 'invalid'] as const) expect(seen[v], JSON.stringify(seen)).toBeGreaterThan(150);
  });

  it('accepts a good token and tells expired from invalid', () => {
    const opts = { algorithms: ['HS256'], tolerance: 0 };
    expect(ourVerdict(sign({ alg: 'HS256' }, { sub: 'a', exp: NOW + 10 }, SECRET, 'HS256'), opts)).toBe('ok');
    expect(ourVerdict(sign({ alg: 'HS256' }, { sub: 'a', exp: NOW }, SECRET, 'HS256'), opts)).toBe('expired');
    expect(ourVerdict(sign({ alg: 'HS256' }, { sub: 'a', nbf: NOW + 1 }, SECRET, 'HS256'), opts)).toBe('invalid');
  });

  it('refuses a signature with a dangling character, which Node would decode to the same bytes', async () => {
    const opts = { algorithms: ['HS384'], tolerance: 0 };
    const token = sign({ alg: 'HS384' }, { sub: 'a' }, SECRET, 'HS384');
    expect(token.split('.')[2]).toHaveLength(64);
    expect(ourVerdict(token, opts)).toBe('ok');
    expect(ourVerdict(`${token}Q`, opts)).toBe('invalid');
    expect(await joseVerdict(`${token}Q`, opts)).toBe('invalid');
  });

  it('refuses critical header parameters, which it does not implement', () => {
    const token = sign({ alg: 'HS256', crit: ['b64'], b64: true }, { sub: 'a' }, SECRET, 'HS256');
    expect(ourVerdict(token, { algorithms: ['HS256'], tolerance: 0 })).toBe('invalid');
  });
});
