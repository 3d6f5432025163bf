/**
 * Demo sign-in. Picking a name gets an app session (a JWT the backend signs
 * with its own key); the session buys short-lived gateway connection tokens,
 * signed with the gateway's secret, as a real backend would hand them out.
 */
import { signToken } from '@tidings/server';
import { SignJWT, jwtVerify } from 'jose';
import { HttpError, type Request } from './http.js';

const USER_NAME = /^[a-z][a-z0-9_-]{1,19}$/;
const SESSION_TTL_S = 12 * 3600;
const CONNECTION_TTL_S = 10 * 60;

export class Auth {
  private readonly sessionKey: Uint8Array;

  constructor(
    sessionSecret: string,
    private readonly gatewayTokenSecret: string,
  ) {
    this.sessionKey = new TextEncoder().encode(sessionSecret);
  }

  static checkName(name: unknown): string {
    const user = typeof name === 'string' ? name.trim().toLowerCase() : '';
    if (!USER_NAME.test(user)) throw new HttpError(400, 'user: 2-20 characters, a-z first, then a-z, 0-9, _ or -');
    return user;
  }

  signSession(user: string): Promise<string> {
    return new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(user).setIssuedAt().setExpirationTime(`${SESSION_TTL_S}s`).sign(this.sessionKey);
  }

  /** The signed-in user of a request (Authorization: Bearer <session>), or 401. */
  async user(r: Request): Promise<string> {
    const header = r.req.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!token) throw new HttpError(401, 'sign in first');
    try {
      const { payload } = await jwtVerify(token, this.sessionKey, { algorithms: ['HS256'] });
      return Auth.checkName(payload.sub);
    } catch {
      throw new HttpError(401, 'session expired: sign in again');
    }
  }

  /** A gateway connection token for `user`; `device` is shown to the user's other tabs in presence. */
  connectionToken(user: string, device: string): Promise<string> {
    return signToken(this.gatewayTokenSecret, { sub: user, info: { name: user, device }, ttlSeconds: CONNECTION_TTL_S });
  }
}
