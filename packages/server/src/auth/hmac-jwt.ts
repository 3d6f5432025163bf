/**
 * HS256/384/512 JWT verification done synchronously with node:crypto.
 *
 * Through jose, every HMAC check went through WebCrypto and libuv's thread
 * pool, several times slower than a synchronous check on the event loop, and
 * the connect storm was bound by it (bench/RESULTS.md, "Figures behind
 * design choices").
 *
 * The rules are jose's (RFC 7515, 7519, 8725), in jose's order, and a
 * differential property test (test/hmac-jwt.property.test.ts) holds this
 * module to jose's verdicts:
 * - the header is a JSON object with an allow-listed `alg`; `crit` is refused
 *   (we understand no extension);
 * - the signature is compared in constant time;
 * - the payload is a JSON object; `iat`, `nbf` and `exp` are numbers when
 *   present; `iss` and `aud` must match when configured; `nbf` and `exp` are
 *   checked with the clock tolerance.
 * The token's shape (three base64url parts, bounded length) is checked by the
 * caller first.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const HASHES = new Map([
  ['HS256', 'sha256'],
  ['HS384', 'sha384'],
  ['HS512', 'sha512'],
]);
const utf8 = new TextDecoder('utf-8', { fatal: true });
/**
 * Headers already read, by their base64url text → their `alg`. A backend
 * signs every token with the same header, so a connect storm decodes it once
 * instead of once per token. Only headers that passed the checks are kept,
 * and at most a few (the allow-list is still checked on every token).
 */
const knownHeaders = new Map<string, string>();
const MAX_KNOWN_HEADERS = 16;

/** A refused token: `expired` tells an expired one (close 3502) from an invalid one (3500). */
export class JwtRejected extends Error {
  constructor(
    message: string,
    readonly expired = false,
  ) {
    super(message);
  }
}

export interface HmacJwtOptions {
  secret: Uint8Array;
  /** Allowed `alg` values, all HS*. */
  algorithms: readonly string[];
  /** Clock tolerance for `exp` and `nbf`, in seconds. */
  toleranceSeconds: number;
  audience?: string;
  issuer?: string;
}

type JsonObject = Record<string, unknown>;

/** Verify `token` and return its claims, or throw JwtRejected. `nowSeconds` is for tests. */
export function verifyHmacJwt(token: string, o: HmacJwtOptions, nowSeconds = Math.floor(Date.now() / 1000)): JsonObject {
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtRejected('not a compact JWS');
  const [head, body, sig] = parts as [string, string, string];
  const hash = headerHash(head, o.algorithms);
  const expected = createHmac(hash, o.secret).update(`${head}.${body}`).digest();
  // Node's decoder drops a dangling last character (length 4k+1); base64url has no such length, and jose refuses it.
  if (sig.length % 4 === 1) throw new JwtRejected('signature is not base64url');
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new JwtRejected('signature verification failed');
  const claims = decodeObject(body, 'claims');
  checkClaims(claims, o, nowSeconds);
  return claims;
}

function decodeObject(part: string, what: string): JsonObject {
  if (part.length % 4 === 1) throw new JwtRejected(`${what} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(Buffer.from(part, 'base64url')));
  } catch {
    throw new JwtRejected(`${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JwtRejected(`${what} is not a JSON object`);
  return value as JsonObject;
}

function headerHash(head: string, algorithms: readonly string[]): string {
  const alg = knownHeaders.get(head);
  if (alg !== undefined && algorithms.includes(alg)) return HASHES.get(alg)!;
  const header = decodeObject(head, 'header');
  const hash = checkHeader(header, algorithms);
  if (knownHeaders.size < MAX_KNOWN_HEADERS) knownHeaders.set(head, header.alg as string);
  return hash;
}

/** The hash for the header's algorithm, if it is allowed. */
function checkHeader(header: JsonObject, algorithms: readonly string[]): string {
  const { alg } = header;
  if (typeof alg !== 'string' || alg === '') throw new JwtRejected('header has no alg');
  const hash = HASHES.get(alg);
  if (!hash || !algorithms.includes(alg)) throw new JwtRejected(`alg ${alg} not allowed`);
  if (header.crit !== undefined) throw new JwtRejected('crit header parameters are not supported');
  return hash;
}

function checkClaims(claims: JsonObject, o: HmacJwtOptions, now: number): void {
  if (o.audience !== undefined && !Object.hasOwn(claims, 'aud')) throw new JwtRejected('missing aud');
  if (o.issuer !== undefined && !Object.hasOwn(claims, 'iss')) throw new JwtRejected('missing iss');
  if (o.issuer !== undefined && claims.iss !== o.issuer) throw new JwtRejected('unexpected iss');
  if (o.audience !== undefined && !audienceHas(claims.aud, o.audience)) throw new JwtRejected('unexpected aud');
  numericDate(claims, 'iat');
  const nbf = numericDate(claims, 'nbf');
  if (nbf !== undefined && nbf > now + o.toleranceSeconds) throw new JwtRejected('token not valid yet (nbf)');
  const exp = numericDate(claims, 'exp');
  if (exp !== undefined && exp <= now - o.toleranceSeconds) throw new JwtRejected('token expired', true);
}

function numericDate(claims: JsonObject, name: string): number | undefined {
  const value = claims[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw new JwtRejected(`${name} is not a number`);
  return value;
}

function audienceHas(aud: unknown, wanted: string): boolean {
  return typeof aud === 'string' ? aud === wanted : Array.isArray(aud) && aud.includes(wanted);
}
