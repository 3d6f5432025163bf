/**
 * Pusher's HMAC-SHA256 signatures (pusher.com/docs/channels/library_auth_reference/auth-signatures
 * and rest-api#authentication): channel authorizations `key:hex(HMAC(secret,
 * socket_id:channel[:channel_data]))`, sign-ins over `socket_id::user::user_data`,
 * and HTTP API requests over `METHOD\npath\nsorted query`. Every comparison
 * is in constant time over equal-length digests.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface AppSecret {
  readonly key: string;
  readonly secret: string;
}

export function hmacHex(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text).digest('hex');
}

/** Constant-time equality of two strings (digested first, so lengths never leak or throw). */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

/** The `auth` a backend returns for a private or presence subscription (what pusher's `authorizeChannel` computes). */
export function channelAuth(app: AppSecret, socketId: string, channel: string, channelData?: string): string {
  const text = channelData === undefined ? `${socketId}:${channel}` : `${socketId}:${channel}:${channelData}`;
  return `${app.key}:${hmacHex(app.secret, text)}`;
}

export function channelAuthValid(app: AppSecret, socketId: string, channel: string, auth: unknown, channelData?: string): boolean {
  return typeof auth === 'string' && safeEqual(auth, channelAuth(app, socketId, channel, channelData));
}

/** The `auth` of a `pusher:signin` (what pusher's `authenticateUser` computes). */
export function signinAuth(app: AppSecret, socketId: string, userData: string): string {
  return `${app.key}:${hmacHex(app.secret, `${socketId}::user::${userData}`)}`;
}

export function signinValid(app: AppSecret, socketId: string, auth: unknown, userData: string): boolean {
  return typeof auth === 'string' && safeEqual(auth, signinAuth(app, socketId, userData));
}

// ------------------------------------------------------------ HTTP API requests

/** How far `auth_timestamp` may be from the server's clock. */
export const MAX_CLOCK_SKEW_S = 600;

/** The text an API request's `auth_signature` signs: every query parameter but the signature, keys lowercased and sorted. */
export function requestSigningText(method: string, path: string, query: URLSearchParams): string {
  const pairs: Array<[string, string]> = [];
  for (const [k, v] of query) if (k !== 'auth_signature') pairs.push([k.toLowerCase(), v]);
  pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${method}\n${path}\n${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`;
}

export type RequestCheck = { ok: true } | { ok: false; status: 401 | 400; message: string };

/**
 * Check a signed API request: the key, the timestamp (within 600 s), the
 * version, the body's MD5 when there is a body, then the signature.
 */
export function checkRequest(app: AppSecret, method: string, path: string, query: URLSearchParams, body: string, nowS: number): RequestCheck {
  const key = query.get('auth_key');
  if (key === null || !safeEqual(key, app.key)) return { ok: false, status: 401, message: 'unknown auth_key' };
  const ts = Number(query.get('auth_timestamp'));
  if (!Number.isInteger(ts) || Math.abs(nowS - ts) > MAX_CLOCK_SKEW_S) {
    return { ok: false, status: 401, message: `auth_timestamp missing or more than ${MAX_CLOCK_SKEW_S} s from the server's clock` };
  }
  if (query.get('auth_version') !== '1.0') return { ok: false, status: 401, message: 'auth_version must be 1.0' };
  if (body.length > 0) {
    const md5 = createHash('md5').update(body).digest('hex');
    if (!safeEqual(query.get('body_md5') ?? '', md5)) return { ok: false, status: 401, message: 'body_md5 does not match the body' };
  }
  const expected = hmacHex(app.secret, requestSigningText(method, path, query));
  if (!safeEqual(query.get('auth_signature') ?? '', expected)) return { ok: false, status: 401, message: 'invalid auth_signature' };
  return { ok: true };
}
