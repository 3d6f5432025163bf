/**
 * Recently verified public-key tokens (RS*, PS*, ES*, EdDSA), so a reconnect
 * storm, where every client comes back with the token it had, checks each
 * signature once and not once per attempt. A signature check costs tens to
 * hundreds of microseconds; a SHA-256 of the token, one or two.
 *
 * Bounded by entry count and token size, never by what clients send: at most
 * MAX_ENTRIES tokens of at most MAX_TOKEN_BYTES each, the oldest dropped first.
 * An entry lasts until the token's own expiry (plus leeway) or TTL_MS, whichever
 * is first, so a key removed from a JWKS stops being honoured within TTL_MS.
 * Refusals are never cached: a bad token costs what it always did.
 */
import { createHash } from 'node:crypto';
import type { JWTPayload } from 'jose';

const MAX_ENTRIES = 4096;
const MAX_TOKEN_BYTES = 2048;
const TTL_MS = 60_000;

interface Entry {
  payload: JWTPayload;
  until: number;
}

export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();
  hits = 0;

  constructor(private readonly leewayMs: number) {}

  /** The cache's key for `token`; undefined for a token too large to be kept. */
  keyOf(token: string): string | undefined {
    return token.length > MAX_TOKEN_BYTES ? undefined : createHash('sha256').update(token).digest('base64url');
  }

  /** The payload of the token under `key` if it was verified recently and has not expired since. */
  get(key: string, now = Date.now()): JWTPayload | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= now) {
      this.entries.delete(key);
      return undefined;
    }
    this.hits++;
    return entry.payload;
  }

  /** Remember the token under `key`, just verified. */
  set(key: string, payload: JWTPayload, now = Date.now()): void {
    const expiry = typeof payload.exp === 'number' ? payload.exp * 1000 + this.leewayMs : Infinity;
    const until = Math.min(expiry, now + TTL_MS);
    if (until <= now) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { payload, until });
  }

  get size(): number {
    return this.entries.size;
  }
}

export const VERIFIED_CACHE_LIMITS = { MAX_ENTRIES, MAX_TOKEN_BYTES, TTL_MS };
