/** Signing of development tokens (`tidings token`) with the configured HMAC secret. */
import { SignJWT } from 'jose';

export interface TokenRequest {
  sub: string;
  channels?: string[];
  /** Lifetime in seconds; 0 or undefined: no `exp`. */
  ttlSeconds?: number;
  info?: unknown;
  audience?: string;
  issuer?: string;
}

export async function signToken(secret: string, req: TokenRequest): Promise<string> {
  const claims: Record<string, unknown> = {};
  if (req.channels?.length) claims.channels = req.channels;
  if (req.info !== undefined) claims.info = req.info;
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(req.sub).setIssuedAt();
  if (req.ttlSeconds) jwt = jwt.setExpirationTime(Math.floor(Date.now() / 1000) + req.ttlSeconds);
  if (req.audience) jwt = jwt.setAudience(req.audience);
  if (req.issuer) jwt = jwt.setIssuer(req.issuer);
  return jwt.sign(new TextEncoder().encode(secret));
}
