/**
 * Connection token verification (JWT: jose for public keys and JWKS, our
 * synchronous hmac-jwt.ts for an HMAC secret). Follows RFC 8725: an explicit
 * allow-list of algorithms tied to the configured key kind (so `alg: none` and
 * RS256→HS256 confusion are refused), exp/nbf with bounded leeway, optional
 * aud/iss, and a character check before any parsing.
 */
import { CloseCode } from '@tidings/protocol';
import { type CryptoKey, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions, createRemoteJWKSet, importSPKI, jwtVerify } from 'jose';
import type { Config } from '../config/schema.js';
import { isAdminToken } from './admin-token.js';
import { type HmacJwtOptions, JwtRejected, verifyHmacJwt } from './hmac-jwt.js';
import { VerifiedTokenCache } from './verified-cache.js';

export interface TokenClaims {
  user: string;
  /** Expiry in ms since the epoch, when the token has `exp`. */
  expiresAt?: number;
  channels: string[];
  info?: unknown;
  /** An admin dashboard connection (auth/admin-token.ts): the only kind allowed on reserved channels. */
  admin: boolean;
}

export class TokenError extends Error {
  constructor(
    /** Close code to send: 3500 invalid token or 3502 token expired. */
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const MAX_TOKEN = 8192;
const HMAC_ALGS = ['HS256', 'HS384', 'HS512'];
const PUBLIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Resolve the key by the token's (already allow-listed) algorithm, importing each once. */
function keyPerAlgorithm(importFor: (alg: string) => Promise<CryptoKey>): JWTVerifyGetKey {
  const cache = new Map<string, Promise<CryptoKey>>();
  return (header) => {
    const alg = header.alg ?? '';
    let key = cache.get(alg);
    if (!key) cache.set(alg, (key = importFor(alg)));
    return key;
  };
}

/** Shared by every token without a `channels` claim (kept per connection: no array each). */
const NO_CHANNELS: string[] = [];

function claimsOf(payload: JWTPayload, admin = false): TokenClaims {
  if (typeof payload.sub !== 'string' || payload.sub === '') throw new TokenError(CloseCode.InvalidToken, 'token has no sub');
  const channels = Array.isArray(payload.channels) ? payload.channels.filter((c): c is string => typeof c === 'string') : NO_CHANNELS;
  // One literal with every field: one object shape, no out-of-object property store.
  return {
    user: payload.sub,
    channels,
    expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined,
    info: payload.info,
    admin,
  };
}

/** The close code and reason for a refused token, whichever verifier refused it. */
function refusal(err: unknown): TokenError {
  if (err instanceof TokenError) return err;
  const code = (err as { code?: string }).code;
  const expired = err instanceof JwtRejected ? err.expired : code === 'ERR_JWT_EXPIRED';
  if (expired) return new TokenError(CloseCode.TokenExpired, 'token expired');
  return new TokenError(CloseCode.InvalidToken, `token invalid (${err instanceof JwtRejected ? err.message : (code ?? 'unreadable')})`);
}

type Keys = { hmac: HmacJwtOptions } | { jose: JWTVerifyGetKey; options: JWTVerifyOptions };

export class TokenVerifier {
  /** An HMAC secret is checked synchronously (hmac-jwt.ts); public keys and JWKS go through jose. */
  private readonly keys: Keys;

  /** Admin tokens are checked with this key, HS256 only; without it they are refused like any unknown key. */
  private readonly admin?: HmacJwtOptions;

  /** Public-key tokens verified lately (an HMAC check is cheaper than the cache's own hash). */
  readonly verified: VerifiedTokenCache;

  constructor(cfg: Config['token'], adminKey?: Uint8Array) {
    this.verified = new VerifiedTokenCache(cfg.leeway);
    if (adminKey) this.admin = { secret: adminKey, algorithms: ['HS256'], toleranceSeconds: 0 };
    const tolerance = Math.round(cfg.leeway / 1000);
    const claims = { ...(cfg.audience ? { audience: cfg.audience } : {}), ...(cfg.issuer ? { issuer: cfg.issuer } : {}) };
    if (cfg.hmacSecret) {
      const algorithms = cfg.algorithms ?? ['HS256'];
      if (algorithms.some((a) => !HMAC_ALGS.includes(a))) throw new Error('token.algorithms: an HMAC secret takes HS* algorithms only');
      this.keys = { hmac: { secret: new TextEncoder().encode(cfg.hmacSecret), algorithms, toleranceSeconds: tolerance, ...claims } };
      return;
    }
    const algorithms = cfg.algorithms ?? ['RS256', 'ES256'];
    if (algorithms.some((a) => !PUBLIC_ALGS.includes(a))) throw new Error('token.algorithms: a public key takes RS*, PS*, ES* or EdDSA algorithms only');
    const options = { algorithms, clockTolerance: tolerance, ...claims };
    if (cfg.publicKey) {
      const pem = cfg.publicKey;
      this.keys = { jose: keyPerAlgorithm((alg) => importSPKI(pem, alg)), options };
    } else if (cfg.jwksUrl) {
      this.keys = { jose: createRemoteJWKSet(new URL(cfg.jwksUrl)), options };
    } else {
      throw new Error('token: configure hmacSecret, publicKey or jwksUrl');
    }
  }

  async verify(token: string | undefined): Promise<TokenClaims> {
    if (!token) throw new TokenError(CloseCode.InvalidToken, 'token missing');
    if (token.length > MAX_TOKEN || !TOKEN_RE.test(token)) throw new TokenError(CloseCode.InvalidToken, 'token malformed');
    const { keys } = this;
    if (isAdminToken(token)) return this.verifyAdmin(token);
    try {
      if ('hmac' in keys) return claimsOf(verifyHmacJwt(token, keys.hmac));
      const key = this.verified.keyOf(token);
      const known = key === undefined ? undefined : this.verified.get(key);
      if (known) return claimsOf(known);
      const { payload } = await jwtVerify(token, keys.jose, keys.options);
      const claims = claimsOf(payload);
      if (key !== undefined) this.verified.set(key, payload);
      return claims;
    } catch (err) {
      throw refusal(err);
    }
  }

  private verifyAdmin(token: string): TokenClaims {
    if (!this.admin) throw new TokenError(CloseCode.InvalidToken, 'token invalid (admin dashboard is off)');
    try {
      return claimsOf(verifyHmacJwt(token, this.admin), true);
    } catch (err) {
      throw refusal(err);
    }
  }
}
