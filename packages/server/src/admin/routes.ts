/**
 * Everything under /admin (docs/admin.md). Without `admin.secret` every path
 * answers 404 "not enabled". Otherwise:
 *
 *   GET  /admin              the dashboard when signed in, else the login form
 *   GET  /admin/assets/…     the dashboard's built files
 *   POST /admin/login        form field `secret`; sets the session cookie (rate-limited per address)
 *   POST /admin/logout       ends the session
 *   GET  /admin/api/session  the session's CSRF token and expiry
 *   POST /admin/api/token    a short-lived connection token for the live numbers
 *   GET  /admin/api/nodes    the engine's node registry
 *   POST /admin/api/channel  a channel's presence and recent history
 *   POST /admin/api/publish  publish a test message
 *   POST /admin/api/disconnect  disconnect a user on every node
 *
 * Every POST must come with an `Origin` of this host; every POST but the
 * login also with the session's CSRF token in `x-tidings-csrf`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ErrorCode } from '@tidings/protocol';
import { adminTokenKey, signAdminToken } from '../auth/admin-token.js';
import type { AdminConfig } from '../config/admin.js';
import { HttpError, readJson, sendJson } from '../http/json.js';
import type { NodeContext } from '../node/context.js';
import { AdminActions } from './actions.js';
import { DashboardAssets } from './assets.js';
import { LoginLimit } from './login-limit.js';
import { loginPage, notBuiltPage, notEnabledPage } from './pages.js';
import { COOKIE_NAME, type AdminSession, SessionCookies, readCookie, setCookieHeader } from './session-cookie.js';
import { secretMatches } from './secret.js';

/** Largest request body under /admin (a test message included). */
const MAX_BODY = 65_536;
const CSRF_HEADER = 'x-tidings-csrf';

/** Headers of every /admin answer: never framed, never cached, nothing loaded from elsewhere. */
const HARDENING: Record<string, string> = {
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; form-action 'self'",
};

export class AdminRoutes {
  private readonly cookies?: SessionCookies;
  private readonly tokenKey?: Buffer;
  private readonly limit: LoginLimit;
  private readonly assets: DashboardAssets;
  private readonly actions: AdminActions;

  constructor(
    private readonly ctx: NodeContext,
    private readonly cfg: AdminConfig,
  ) {
    if (cfg.secret) {
      this.cookies = new SessionCookies(cfg.secret, cfg.sessionTtl);
      this.tokenKey = adminTokenKey(cfg.secret);
    }
    this.limit = new LoginLimit(cfg.loginAttempts, cfg.loginWindow);
    this.assets = new DashboardAssets(cfg.assetsDir);
    this.actions = new AdminActions(ctx);
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    for (const [k, v] of Object.entries(HARDENING)) res.setHeader(k, v);
    if (!this.cookies || !this.cfg.secret) return sendHtml(res, 404, notEnabledPage());
    if (req.method === 'POST') checkOrigin(req);
    if (path === '/admin/login') return req.method === 'POST' ? this.login(req, res) : redirect(res, '/admin');
    if (req.method === 'GET' && path.startsWith('/admin/assets/')) return this.asset(res, path.slice('/admin/assets/'.length));
    const session = this.cookies.verify(readCookie(req.headers.cookie, COOKIE_NAME));
    if (req.method === 'GET' && (path === '/admin' || path === '/admin/')) return this.dashboard(res, session);
    if (!session) throw new HttpError(401, ErrorCode.Unauthorized, 'not signed in');
    if (req.method === 'POST' && !this.cookies.checkCsrf(session, header(req, CSRF_HEADER))) {
      throw new HttpError(403, ErrorCode.PermissionDenied, `missing or wrong ${CSRF_HEADER} header`);
    }
    const body = req.method === 'POST' ? await readJson(req, MAX_BODY) : {};
    sendJson(res, 200, await this.route(`${req.method} ${path}`, body, session, req, res));
  }

  private route(route: string, body: unknown, session: AdminSession, req: IncomingMessage, res: ServerResponse): Promise<unknown> | unknown {
    switch (route) {
      case 'GET /admin/api/session':
        return { csrf: this.cookies!.csrfToken(session), expiresAt: session.expiresAt };
      case 'POST /admin/api/token':
        return { token: signAdminToken(this.tokenKey!, this.cfg.tokenTtl) };
      case 'GET /admin/api/nodes':
        return this.nodes();
      case 'POST /admin/api/channel':
        return this.actions.inspect(body);
      case 'POST /admin/api/publish':
        return this.actions.publish(body);
      case 'POST /admin/api/disconnect':
        return this.actions.disconnect(body);
      case 'POST /admin/logout':
        this.cookies!.revoke(session);
        res.setHeader('set-cookie', setCookieHeader('', 0, this.secure(req)));
        return {};
      default:
        throw new HttpError(404, ErrorCode.MethodNotFound, `no admin route ${route}`);
    }
  }

  private async nodes() {
    const nodes = await this.ctx.engine.nodes.list().catch(() => []);
    return { nodes };
  }

  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const address = req.socket.remoteAddress ?? '';
    if (!this.limit.admit(address)) {
      this.ctx.log.debug({ address }, 'admin login rate-limited');
      res.setHeader('retry-after', String(this.limit.retryAfter()));
      return sendHtml(res, 429, loginPage('Too many attempts. Wait a minute and try again.'));
    }
    const secret = await readFormField(req, 'secret');
    if (!secretMatches(secret, this.cfg.secret!)) {
      this.ctx.log.warn({ address }, 'admin login refused: wrong secret');
      return sendHtml(res, 401, loginPage('Wrong secret.'));
    }
    const { value } = this.cookies!.issue();
    this.ctx.log.info({ address }, 'admin login');
    res.writeHead(303, { location: '/admin', 'set-cookie': setCookieHeader(value, this.cfg.sessionTtl, this.secure(req)) });
    res.end();
  }

  private dashboard(res: ServerResponse, session: AdminSession | undefined): void {
    if (!session) return sendHtml(res, 200, loginPage());
    const index = this.assets.index();
    if (!index) return sendHtml(res, 503, notBuiltPage(this.assets.dir));
    res.writeHead(200, { 'content-type': index.type, 'content-length': index.body.length });
    res.end(index.body);
  }

  private asset(res: ServerResponse, relative: string): void {
    const file = this.assets.asset(relative);
    if (!file) throw new HttpError(404, ErrorCode.MethodNotFound, 'no such file');
    res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length });
    res.end(file.body);
  }

  private secure(req: IncomingMessage): boolean {
    if (this.cfg.secureCookie !== 'auto') return this.cfg.secureCookie === 'always';
    const forwarded = header(req, 'x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
    return (req.socket as TLSSocket).encrypted === true || forwarded === 'https';
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * A state-changing request must say where it comes from, and that must be
 * this host (behind a proxy, the host it was asked for: X-Forwarded-Host).
 * A page on another site cannot set X-Forwarded-Host without a CORS
 * preflight, which this gateway never grants, and the CSRF token is checked
 * as well.
 */
function checkOrigin(req: IncomingMessage): void {
  const origin = header(req, 'origin');
  const host = header(req, 'x-forwarded-host') ?? header(req, 'host');
  let originHost: string | undefined;
  try {
    originHost = origin ? new URL(origin).host : undefined;
  } catch {
    originHost = undefined;
  }
  if (!originHost || !host || originHost !== host.toLowerCase()) throw new HttpError(403, ErrorCode.PermissionDenied, 'missing or foreign Origin');
}

/** One field of an urlencoded form body (the login form), bounded. */
async function readFormField(req: IncomingMessage, name: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > 4096) throw new HttpError(413, ErrorCode.BadRequest, 'form too large');
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(400, ErrorCode.BadRequest, 'request body aborted');
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get(name) ?? '';
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { location });
  res.end();
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
  res.end(html);
}
