/**
 * Connection tokens of the admin dashboard. The gateway signs them itself
 * (HS256, with a key derived from `admin.secret`, whatever the token config
 * is), and only they may subscribe to the reserved `_tidings:` channels.
 * They are told apart by their fixed header (`kid: "tidings-admin"`), so a
 * normal connect pays one string prefix check.
 */
import { createHmac } from 'node:crypto';

/** The user id of every admin connection. */
export const ADMIN_USER = '_admin';

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'tidings-admin' })).toString('base64url');
const PREFIX = `${HEADER}.`;

/** The signing key of admin tokens, derived from the admin secret (one label per use, so no key serves twice). */
export function adminTokenKey(secret: string): Buffer {
  return createHmac('sha256', secret).update('tidings admin connection token v1').digest();
}

export function isAdminToken(token: string): boolean {
  return token.startsWith(PREFIX);
}

/** A token for one dashboard connection, valid `ttlMs`. */
export function signAdminToken(key: Uint8Array, ttlMs: number, now = Date.now()): string {
  const iat = Math.floor(now / 1000);
  const body = Buffer.from(JSON.stringify({ sub: ADMIN_USER, adm: true, iat, exp: iat + Math.ceil(ttlMs / 1000) })).toString('base64url');
  const sig = createHmac('sha256', key).update(`${HEADER}.${body}`).digest('base64url');
  return `${HEADER}.${body}.${sig}`;
}
