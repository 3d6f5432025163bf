/**
 * What the network feeds the admin routes, from fast-check: cookie values and
 * Cookie headers, Origin and CSRF headers. Nothing forged is ever a session,
 * nothing throws, and a real gateway answers every forged request with a 4xx.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionCookies, readCookie } from '../packages/server/src/admin/session-cookie.js';
import { type TestGateway, startTestGateway } from './helpers.js';

const SECRET = 'admin-secret-property-0123456789';
const cookies = new SessionCookies(SECRET, 3_600_000);
const printable = fc.string({ unit: fc.constantFrom(...' !#$%&()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~'), maxLength: 120 });

describe('admin: session cookies (property)', () => {
  it('an arbitrary string is never a session, and verify never throws', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (value) => cookies.verify(value) === undefined), { numRuns: 2000 });
  });

  it('a real cookie with any one character changed is not a session', () => {
    const { value } = cookies.issue();
    expect(cookies.verify(value)).toBeDefined();
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    fc.assert(
      fc.property(fc.nat({ max: value.length - 1 }), fc.constantFrom(...alphabet), (i, c) => {
        fc.pre(value[i] !== c);
        return cookies.verify(value.slice(0, i) + c + value.slice(i + 1)) === undefined;
      }),
      { numRuns: 1000 },
    );
  });

  it('a cookie signed with another secret, or expired, is not a session', () => {
    const other = new SessionCookies('another-admin-secret-0123456789', 3_600_000).issue().value;
    expect(cookies.verify(other)).toBeUndefined();
    const old = new SessionCookies(SECRET, 1000).issue(Date.now() - 5000).value;
    expect(cookies.verify(old)).toBeUndefined();
  });

  it('readCookie finds its cookie among arbitrary others, and never throws on any header', () => {
    const name = fc.stringMatching(/^[A-Za-z0-9_]{1,12}$/);
    const val = fc.stringMatching(/^[A-Za-z0-9_.\-]{0,30}$/);
    fc.assert(
      fc.property(fc.array(fc.tuple(name, val), { maxLength: 6 }), val, (others, mine) => {
        const list = others.filter(([n]) => n !== 'tidings_admin');
        const header = [...list.map(([n, v]) => `${n}=${v}`), `tidings_admin=${mine}`].join('; ');
        return readCookie(header, 'tidings_admin') === mine;
      }),
    );
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (h) => (readCookie(h, 'tidings_admin'), true)));
  });
});

describe('admin: forged requests on a real gateway (property)', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ admin: { secret: SECRET } });
  });
  afterAll(() => t.close());

  it('any Origin, cookie and CSRF header but the right ones gets a 4xx, and the gateway keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(printable, printable, printable, fc.constantFrom('/admin/api/publish', '/admin/api/disconnect', '/admin/logout', '/admin/api/token'), async (origin, cookie, csrf, path) => {
        const res = await fetch(t.httpUrl + path, {
          method: 'POST',
          headers: { origin, cookie: `tidings_admin=${cookie}`, 'x-tidings-csrf': csrf, 'content-type': 'application/json' },
          body: JSON.stringify({ channel: 'news', data: 1, user: 'x' }),
        });
        await res.text();
        return res.status >= 400 && res.status < 500;
      }),
      { numRuns: 60 },
    );
    expect((await fetch(`${t.httpUrl}/health`)).status).toBe(200);
  });
});

describe('admin: top channels table (property)', () => {
  it('keeps every channel with more than N/capacity publications, never under-counts it, and stays within capacity', async () => {
    const { TopChannels } = await import('../packages/server/src/admin/top-channels.js');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 600 }), (capacity, stream) => {
        const top = new TopChannels(capacity);
        const exact = new Map<string, number>();
        for (const n of stream) {
          top.count(`c${n}`);
          exact.set(`c${n}`, (exact.get(`c${n}`) ?? 0) + 1);
        }
        const kept = top.take(capacity);
        if (kept.length > capacity) return false;
        const byName = new Map(kept.map((k) => [k.channel, k.count]));
        for (const [ch, n] of exact) {
          if (n > stream.length / capacity && !(byName.get(ch)! >= n)) return false;
        }
        // Each publication adds exactly one to the table (a replaced counter passes its count on).
        return kept.reduce((sum, k) => sum + k.count, 0) === stream.length;
      }),
      { numRuns: 500 },
    );
  });
});
