/**
 * The admin dashboard's server side over real sockets: off without a secret,
 * login and logout, the cookie's flags, the login rate limit, CSRF (token and
 * Origin), the reserved channel (refused to normal clients, open to the
 * dashboard's token), the stats it publishes, and the actions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawPeer, type TestGateway, connectedPeer, startTestGateway, until } from './helpers.js';

const ADMIN_SECRET = 'admin-secret-0123456789-abcdef';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

async function request(t: TestGateway, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const res = await fetch(t.httpUrl + path, { redirect: 'manual', ...init });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Log in as a browser on this host would; returns the cookie and the session's CSRF token. */
async function login(t: TestGateway, secret = ADMIN_SECRET) {
  const origin = t.httpUrl;
  const r = await request(t, '/admin/login', {
    method: 'POST',
    headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ secret }).toString(),
  });
  const setCookie = r.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0]!;
  const session = r.status === 303 ? await request(t, '/admin/api/session', { headers: { cookie } }) : undefined;
  return { r, setCookie, cookie, csrf: session?.json?.csrf as string | undefined };
}

function post(t: TestGateway, path: string, body: unknown, headers: Record<string, string>) {
  return request(t, path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

describe('admin: without a secret', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(() => t.close());

  it('answers 404 with a page saying it is not enabled, on every admin path', async () => {
    for (const path of ['/admin', '/admin/api/session', '/admin/assets/x.js']) {
      const r = await request(t, path);
      expect(r.status).toBe(404);
      expect(r.text).toContain('not enabled');
      expect(r.text).toContain('TIDINGS_ADMIN_SECRET');
    }
    const r = await request(t, '/admin/login', { method: 'POST', headers: { origin: t.httpUrl }, body: 'secret=anything' });
    expect(r.status).toBe(404);
  });

  it('refuses an admin-looking token: no key, no admin connection', async () => {
    const { signAdminToken, adminTokenKey } = await import('../packages/server/src/auth/admin-token.js');
    const peer = await new RawPeer(t.wsUrl).open();
    peer.sendRaw(JSON.stringify({ id: 1, method: 'connect', params: { token: signAdminToken(adminTokenKey(ADMIN_SECRET), 60_000) } }));
    expect((await peer.closed).code).toBe(3500);
  });
});

describe('admin: login, session, CSRF', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({
      admin: { secret: ADMIN_SECRET, loginAttempts: 100 },
      namespaces: { room: { presence: true, publish: 'subscribers' } },
    });
  });
  afterAll(() => t.close());

  it('shows the login form when not signed in', async () => {
    const r = await request(t, '/admin');
    expect(r.status).toBe(200);
    expect(r.text).toContain('<form method="post" action="/admin/login"');
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('a wrong secret gets 401 and the form again, with no cookie', async () => {
    const { r, setCookie } = await login(t, 'not-the-secret-at-all-000000');
    expect(r.status).toBe(401);
    expect(r.text).toContain('Wrong secret');
    expect(setCookie).toBe('');
  });

  it('the right secret sets an HttpOnly, SameSite=Strict cookie scoped to /admin, and redirects to the dashboard', async () => {
    const { r, setCookie, csrf } = await login(t);
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/admin');
    expect(setCookie).toMatch(/^tidings_admin=[^;]+; Path=\/admin; HttpOnly; SameSite=Strict; Max-Age=28800$/);
    expect(setCookie).not.toContain('Secure');
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('the cookie is Secure when the request came over https (X-Forwarded-Proto)', async () => {
    const r = await request(t, '/admin/login', {
      method: 'POST',
      headers: { origin: t.httpUrl, 'x-forwarded-proto': 'https', 'content-type': 'application/x-www-form-urlencoded' },
      body: `secret=${ADMIN_SECRET}`,
    });
    expect(r.status).toBe(303);
    expect(r.headers.get('set-cookie')).toMatch(/; Secure$/);
  });

  it('a forged or tampered cookie is not a session', async () => {
    const { cookie } = await login(t);
    const tampered = cookie.replace(/\.(\d+)\./, (_m, exp: string) => `.${Number(exp) + 1000}.`);
    for (const c of [tampered, 'tidings_admin=abc', 'tidings_admin=']) {
      expect((await request(t, '/admin/api/session', { headers: { cookie: c } })).status).toBe(401);
    }
  });

  it('a state-changing request needs the CSRF token and this Origin', async () => {
    const { cookie, csrf } = await login(t);
    const origin = t.httpUrl;
    const body = { channel: 'news', data: { hello: 1 } };
    const noToken = await post(t, '/admin/api/publish', body, { cookie, origin });
    expect(noToken.status).toBe(403);
    expect(noToken.json.error.message).toContain('x-tidings-csrf');
    const wrongToken = await post(t, '/admin/api/publish', body, { cookie, origin, 'x-tidings-csrf': 'A'.repeat(43) });
    expect(wrongToken.status).toBe(403);
    const foreign = await post(t, '/admin/api/publish', body, { cookie, origin: 'http://evil.example', 'x-tidings-csrf': csrf! });
    expect(foreign.status).toBe(403);
    expect(foreign.json.error.message).toContain('Origin');
    const noOrigin = await post(t, '/admin/api/publish', body, { cookie, 'x-tidings-csrf': csrf! });
    expect(noOrigin.status).toBe(403);
    // Another session's token does not do either.
    const other = await login(t);
    expect((await post(t, '/admin/api/publish', body, { cookie, origin, 'x-tidings-csrf': other.csrf! })).status).toBe(403);
    const ok = await post(t, '/admin/api/publish', body, { cookie, origin, 'x-tidings-csrf': csrf! });
    expect(ok.status).toBe(200);
    expect(ok.json.offset).toBeGreaterThan(0);
  });

  it('a login from a foreign Origin is refused (login CSRF)', async () => {
    const r = await request(t, '/admin/login', { method: 'POST', headers: { origin: 'http://evil.example' }, body: `secret=${ADMIN_SECRET}` });
    expect(r.status).toBe(403);
    expect(r.headers.get('set-cookie')).toBeNull();
  });

  it('logout ends the session, and the old cookie no longer works', async () => {
    const { cookie, csrf } = await login(t);
    expect((await request(t, '/admin/api/nodes', { headers: { cookie } })).status).toBe(200);
    const out = await post(t, '/admin/logout', {}, { cookie, origin: t.httpUrl, 'x-tidings-csrf': csrf! });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/^tidings_admin=; Path=\/admin; HttpOnly; SameSite=Strict; Max-Age=0/);
    expect((await request(t, '/admin/api/nodes', { headers: { cookie } })).status).toBe(401);
    expect((await request(t, '/admin', { headers: { cookie } })).text).toContain('action="/admin/login"');
  });

  it('lists the engine\'s node registry', async () => {
    const { cookie } = await login(t);
    const r = await request(t, '/admin/api/nodes', { headers: { cookie } });
    expect(r.json.nodes).toEqual([expect.objectContaining({ id: t.gw.id, address: `127.0.0.1:${t.port}` })]);
  });

  it('shows a channel\'s presence and recent history, newest first; refuses a reserved or malformed channel', async () => {
    const { cookie, csrf } = await login(t);
    const headers = { cookie, origin: t.httpUrl, 'x-tidings-csrf': csrf! };
    const alice = await connectedPeer(t, 'alice');
    expect((await alice.call('subscribe', { channel: 'room:1' })).error).toBeUndefined();
    for (const n of [1, 2, 3]) await t.publish('room:1', { n });
    const r = await post(t, '/admin/api/channel', { channel: 'room:1' }, headers);
    expect(r.status).toBe(200);
    expect(r.json.presence).toEqual({ enabled: true, total: 1, clients: [expect.objectContaining({ user: 'alice' })] });
    expect(r.json.history.publications.map((p: any) => p.data.n)).toEqual([3, 2, 1]);
    expect(r.json.subscribersHere).toBe(1);
    expect((await post(t, '/admin/api/channel', { channel: '_tidings:stats' }, headers)).json.error.code).toBe(102);
    expect((await post(t, '/admin/api/channel', { channel: 'bad name' }, headers)).status).toBe(400);
    alice.close();
  });

  it('disconnects a user on every node', async () => {
    const { cookie, csrf } = await login(t);
    const bob = await connectedPeer(t, 'bob');
    const r = await post(t, '/admin/api/disconnect', { user: 'bob' }, { cookie, origin: t.httpUrl, 'x-tidings-csrf': csrf! });
    expect(r.status).toBe(200);
    expect((await bob.closed).code).toBe(3503);
  });

  it('rate-limits login attempts per address with 429 and Retry-After', async () => {
    const local = await startTestGateway({ admin: { secret: ADMIN_SECRET, loginAttempts: 3, loginWindow: '1h' } });
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await login(local, 'wrong-secret-0000000000000000')).r.status);
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      const right = await login(local);
      expect(right.r.status).toBe(429);
      expect(Number(right.r.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await local.close();
    }
  });
});

describe('admin: the reserved channel and live stats', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ admin: { secret: ADMIN_SECRET, statsInterval: '250ms' }, namespaces: { chat: { publish: 'authenticated' } } });
  });
  afterAll(() => t.close());

  it('normal clients can neither subscribe nor publish to _tidings:, even with a channels claim granting it', async () => {
    const peer = await new RawPeer(t.wsUrl).open();
    const token = await t.token('mallory', { channels: ['_tidings:*', '_tidings:stats'] });
    expect((await peer.call('connect', { token, subs: [{ channel: '_tidings:stats' }] })).result.subs[0].error.code).toBe(103);
    expect((await peer.call('subscribe', { channel: '_tidings:stats' })).error.code).toBe(103);
    expect((await peer.call('publish', { channel: '_tidings:stats', data: { fake: true } })).error.code).toBe(103);
    expect((await peer.call('history', { channel: '_tidings:stats' })).error.code).toBe(103);
    expect((await t.api('/api/publish', { channel: '_tidings:stats', data: {} })).body.error.code).toBe(102);
    peer.close();
  });

  it('the dashboard token subscribes, and every node\'s numbers arrive each interval, counting what a test publishes', async () => {
    const { cookie, csrf } = await login(t);
    const tokenReply = await post(t, '/admin/api/token', {}, { cookie, origin: t.httpUrl, 'x-tidings-csrf': csrf! });
    expect(tokenReply.status).toBe(200);
    const admin = await new RawPeer(t.wsUrl).open();
    const connected = await admin.call('connect', { token: tokenReply.json.token, subs: [{ channel: '_tidings:stats' }] });
    expect(connected.result.subs[0].error).toBeUndefined();
    // The admin connection may not publish into its own channel either.
    expect((await admin.call('publish', { channel: '_tidings:stats', data: {} })).error.code).toBe(103);

    const sub = await connectedPeer(t, 'carol');
    await sub.call('subscribe', { channel: 'chat:busy' });
    const stats = () => admin.frames.filter((f) => f.type === 'pub' && f.channel === '_tidings:stats').map((f) => f.data);
    let sent = 0;
    const deadline = Date.now() + 15_000;
    while (!stats().some((s) => s.topChannels.some((c: any) => c.channel === 'chat:busy')) && Date.now() < deadline) {
      await t.publish('chat:busy', { n: sent++ });
      await new Promise((r) => setTimeout(r, 20));
    }
    const seen = stats().find((s) => s.topChannels.some((c: any) => c.channel === 'chat:busy'))!;
    expect(seen, 'a stats message naming chat:busy').toBeDefined();
    expect(seen.node.id).toBe(t.gw.id);
    expect(seen.node.connections).toBeGreaterThanOrEqual(2);
    expect(seen.subscriptions).toBeGreaterThanOrEqual(2);
    expect(seen.publicationRate).toBeGreaterThan(0);
    expect(seen.deliveryRate).toBeGreaterThan(0);
    // The stats channel's own traffic is not counted.
    expect(seen.topChannels.map((c: any) => c.channel)).not.toContain('_tidings:stats');
    admin.close();
    sub.close();
  });

  it('an expired or forged admin token is refused', async () => {
    const { signAdminToken, adminTokenKey } = await import('../packages/server/src/auth/admin-token.js');
    const expired = signAdminToken(adminTokenKey(ADMIN_SECRET), 10_000, Date.now() - 60_000);
    const forged = signAdminToken(adminTokenKey('another-secret-0123456789-xyz'), 60_000);
    for (const [token, code] of [[expired, 3502], [forged, 3500]] as const) {
      const peer = await new RawPeer(t.wsUrl).open();
      peer.sendRaw(JSON.stringify({ id: 1, method: 'connect', params: { token } }));
      expect((await peer.closed).code).toBe(code);
    }
  });
});

describe('admin: top channels table', () => {
  it('keeps a busy channel on top with a bounded table, whatever the number of other channels', async () => {
    const { TopChannels } = await import('../packages/server/src/admin/top-channels.js');
    const top = new TopChannels(8);
    for (let i = 0; i < 5000; i++) {
      top.count(`cold:${i}`);
      if (i % 3 === 0) top.count('hot');
    }
    const [first] = top.take(3);
    expect(first!.channel).toBe('hot');
    expect(first!.count).toBeGreaterThanOrEqual(1667);
    expect(top.take(3)).toEqual([]);
  });
});

describe('admin: the built files', () => {
  it('serves the built page after login, never a file outside its folder, and says so when it is not built', async () => {
    const { mkdtempSync, writeFileSync, mkdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'admin-assets-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(dir, 'secret.txt'), 'outside the assets folder? no: inside dist, but not under assets/');
    const t = await startTestGateway({ admin: { secret: ADMIN_SECRET, assetsDir: dir } });
    try {
      const { cookie } = await login(t);
      const notBuilt = await request(t, '/admin', { headers: { cookie } });
      expect(notBuilt.status).toBe(503);
      expect(notBuilt.text).toContain('not built');
      writeFileSync(join(dir, 'index.html'), '<!doctype html><title>built</title>');
      expect((await request(t, '/admin', { headers: { cookie } })).text).toContain('<title>built</title>');
      const js = await request(t, '/admin/assets/app.js');
      expect(js.status).toBe(200);
      expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      // A raw request line is not normalized by a client: the server must refuse to climb out.
      const { request: raw } = await import('node:http');
      const get = (path: string) =>
        new Promise<number>((resolve, reject) => {
          const req = raw({ host: '127.0.0.1', port: t.port, path }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          req.end();
        });
      expect(await get('/admin/assets/../../../../etc/passwd')).toBe(404);
      expect(await get('/admin/assets/../secret.txt')).toBe(404);
      expect(await get('/admin/assets/%2e%2e/secret.txt')).toBe(404);
    } finally {
      await t.close();
    }
  });
});

describe('admin: configuration', () => {
  it('takes the secret from TIDINGS_ADMIN_SECRET, and refuses a short one by its path', async () => {
    const { loadConfig, parseConfig } = await import('@tidings/server');
    const env = { TIDINGS_ADMIN_SECRET: ADMIN_SECRET, TIDINGS_API_KEY: 'k'.repeat(16), TIDINGS_TOKEN_SECRET: 's'.repeat(32) };
    expect(loadConfig({ env }).config.admin.secret).toBe(ADMIN_SECRET);
    expect(parseConfig({}).admin.secret).toBeUndefined();
    expect(parseConfig({}).admin).toMatchObject({ sessionTtl: 8 * 3_600_000, tokenTtl: 60_000, statsInterval: 1000 });
    expect(() => parseConfig({ admin: { secret: 'short' } })).toThrow(/admin\.secret: must be at least 24 characters/);
    expect(() => loadConfig({ env: { ...env, TIDINGS_ADMIN_SECRET: 'short' } })).toThrow(/admin\.secret \(from TIDINGS_ADMIN_SECRET\)/);
  });
});

describe('admin: docs/admin.md', () => {
  it('the config snippet turns the dashboard on, and the stats message it shows has the fields a real one has', async () => {
    const { snippetsOf } = await import('./snippets.js');
    const { parseConfig } = await import('@tidings/server');
    const snippets = new Map(snippetsOf('docs/admin.md').map((s) => [s.name, s.code]));
    expect(parseConfig(JSON.parse(snippets.get('admin-config')!)).admin.secret).toBeDefined();

    const t = await startTestGateway({ admin: { secret: ADMIN_SECRET, statsInterval: '250ms' } });
    try {
      const { signAdminToken, adminTokenKey } = await import('../packages/server/src/auth/admin-token.js');
      const admin = await new RawPeer(t.wsUrl).open();
      await admin.call('connect', { token: signAdminToken(adminTokenKey(ADMIN_SECRET), 60_000), subs: [{ channel: '_tidings:stats' }] });
      const real = (await admin.waitFor((f) => f.type === 'pub' && f.channel === '_tidings:stats')).data;
      const documented = JSON.parse(snippets.get('admin-stats-message')!);
      expect(Object.keys(documented).sort()).toEqual(Object.keys(real).sort());
      expect(Object.keys(documented.node).sort()).toEqual(Object.keys(real.node).sort());
      admin.close();
    } finally {
      await t.close();
    }
  });

  it('the serve snippet starts a gateway whose /admin shows the login form', async () => {
    const { snippetsOf } = await import('./snippets.js');
    const { spawn } = await import('node:child_process');
    const { mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { freePort } = await import('./helpers.js');
    const code = snippetsOf('docs/admin.md').find((s) => s.name === 'admin-serve')!.code;
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, TIDINGS_PORT: String(port), TIDINGS_DATA_DIR: mkdtempSync(join(tmpdir(), 'admin-doc-')) };
    for (const k of Object.keys(env)) if (k.startsWith('TIDINGS_') && k !== 'TIDINGS_PORT' && k !== 'TIDINGS_DATA_DIR') delete env[k];
    env.PATH = `${join(import.meta.dirname, '../node_modules/.bin')}:${env.PATH}`;
    const child = spawn('bash', ['-c', code], { cwd: join(import.meta.dirname, '..'), env, detached: true, stdio: 'ignore' });
    try {
      let page = '';
      const deadline = Date.now() + 20_000;
      while (!page.includes('action="/admin/login"') && Date.now() < deadline) {
        page = await fetch(`http://127.0.0.1:${port}/admin`).then((r) => r.text(), () => '');
        if (!page) await new Promise((r) => setTimeout(r, 100));
      }
      expect(page).toContain('action="/admin/login"');
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
    }
  });
});
