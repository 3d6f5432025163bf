/**
 * Shared secrets and tokens. Tidings tokens are signed with @tidings/server's
 * signToken (HS256 via jose); the peer servers check the same tokens with a
 * bare HMAC (verifyHs256), so every server does one HS256 verification per
 * connect.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { signToken } from '@tidings/server';

export const SECRET = 'bench-secret-0123456789-0123456789-abcdef';
export const API_KEY = 'bench-api-key-0123456789abcdef';

/** Sign `count` distinct user tokens up front, so signing never runs inside a measurement. */
export async function signTokens(count, prefix = 'u') {
  const out = new Array(count);
  for (let i = 0; i < count; i++) out[i] = await signToken(SECRET, { sub: `${prefix}${i}`, ttlSeconds: 3600 });
  return out;
}

/** HS256 check for the peers: signature, then `exp`. Returns the subject or null. */
export function verifyHs256(token, secret = SECRET) {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) return null;
  const expected = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
  if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) return null;
  return typeof claims.sub === 'string' ? claims.sub : null;
}
