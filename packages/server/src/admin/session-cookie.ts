/**
 * The dashboard's login: a cookie signed by the gateway (HMAC-SHA256 with a
 * key derived from `admin.secret`), so any node of a cluster accepts it and no
 * node keeps state for it. It carries a random session id and its expiry;
 * the session's CSRF token is derived from the id. Logging out drops the
 * cookie in the browser and revokes the id on the node that handled it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const COOKIE_NAME = 'tidings_admin';
/** Ids revoked by logout, remembered until they would have expired anyway; past this many, the oldest goes. */
const MAX_REVOKED = 10_000;

export interface AdminSession {
  id: string;
  expiresAt: number;
}

function derive(secret: string, label: string): Buffer {
  return createHmac('sha256', secret).update(label).digest();
}

export class SessionCookies {
  private readonly cookieKey: Buffer;
  private readonly csrfKey: Buffer;
  private readonly revoked = new Map<string, number>();

  constructor(
    secret: string,
    private readonly ttlMs: number,
  ) {
    this.cookieKey = derive(secret, 'tidings admin session cookie v1');
    this.csrfKey = derive(secret, 'tidings admin csrf v1');
  }

  /** A new session and the cookie value that proves it. */
  issue(now = Date.now()): { session: AdminSession; value: string } {
    const session = { id: randomBytes(18).toString('base64url'), expiresAt: now + this.ttlMs };
    const body = `${session.id}.${session.expiresAt}`;
    return { session, value: `${body}.${this.sign(body)}` };
  }

  /** The session a cookie value proves, or undefined (forged, expired, revoked, malformed). */
  verify(value: string | undefined, now = Date.now()): AdminSession | undefined {
    const m = value === undefined ? null : /^([A-Za-z0-9_-]{24})\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(value);
    if (!m) return undefined;
    const [, id, exp, sig] = m as unknown as [string, string, string, string];
    if (!safeEqual(sig, this.sign(`${id}.${exp}`))) return undefined;
    const expiresAt = Number(exp);
    if (expiresAt <= now || this.revoked.has(id)) return undefined;
    return { id, expiresAt };
  }

  /** The CSRF token of a session: sent back in the `x-tidings-csrf` header of every state-changing request. */
  csrfToken(session: AdminSession): string {
    return createHmac('sha256', this.csrfKey).update(session.id).digest('base64url');
  }

  checkCsrf(session: AdminSession, given: string | undefined): boolean {
    return given !== undefined && safeEqual(given, this.csrfToken(session));
  }

  revoke(session: AdminSession, now = Date.now()): void {
    for (const [id, exp] of this.revoked) if (exp <= now || this.revoked.size >= MAX_REVOKED) this.revoked.delete(id);
    this.revoked.set(session.id, session.expiresAt);
  }

  private sign(body: string): string {
    return createHmac('sha256', this.cookieKey).update(body).digest('base64url');
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The value of cookie `name` in a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie header: HttpOnly, SameSite=Strict, scoped to /admin; Secure when asked. */
export function setCookieHeader(value: string, maxAgeMs: number, secure: boolean): string {
  const flags = [`${COOKIE_NAME}=${value}`, 'Path=/admin', 'HttpOnly', 'SameSite=Strict', `Max-Age=${Math.floor(maxAgeMs / 1000)}`];
  if (secure) flags.push('Secure');
  return flags.join('; ');
}
