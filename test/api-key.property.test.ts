/**
 * The HTTP API's key check (http/api.ts): a request is let in exactly when
 * the bytes after `apikey ` are the key's, whatever else is sent: prefixes,
 * the key with more after it, one byte changed, other lengths, bytes above
 * 0x7F. A key with non-ASCII characters is accepted when sent as UTF-8, as
 * clients send it. Over real HTTP on 127.0.0.1.
 */
import { request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestGateway, startTestGateway } from './helpers.js';

const ASCII_KEY = 'test-api-key-0123456789';
const UTF8_KEY = 'clé-secrète-ünïcode-42';

/** GET /api/info with the header value given as the bytes it is made of (latin1: one character per byte). */
function status(t: TestGateway, authorization: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${t.httpUrl}/api/info`, { headers: { authorization } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

const asSent = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

/** Header bytes an HTTP client may send: visible ASCII, space, and 0x80–0xFF. */
const headerByte = fc.oneof(fc.integer({ min: 0x21, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constant(0x20)).map((c) => String.fromCharCode(c));

function candidates(key: string) {
  const bytes = asSent(key);
  return fc.oneof(
    fc.integer({ min: 0, max: bytes.length - 1 }).map((n) => bytes.slice(0, n)),
    fc.string({ unit: headerByte, minLength: 1, maxLength: 4 }).map((more) => bytes + more),
    fc.tuple(fc.integer({ min: 0, max: bytes.length - 1 }), headerByte).map(([i, c]) => bytes.slice(0, i) + c + bytes.slice(i + 1)),
    fc.string({ unit: headerByte, minLength: 1, maxLength: 40 }),
  );
}

describe('API key check', () => {
  let ascii: TestGateway;
  let utf8: TestGateway;
  beforeAll(async () => {
    ascii = await startTestGateway({ apiKey: ASCII_KEY });
    utf8 = await startTestGateway({ apiKey: UTF8_KEY });
  });
  afterAll(async () => {
    await ascii.close();
    await utf8.close();
  });

  it('lets in the key, in either case of the scheme, and nothing else', async () => {
    for (const [t, key] of [
      [ascii, ASCII_KEY],
      [utf8, UTF8_KEY],
    ] as const) {
      expect(await status(t, `apikey ${asSent(key)}`)).toBe(200);
      expect(await status(t, `ApiKey ${asSent(key)}`)).toBe(200);
      await fc.assert(
        fc.asyncProperty(candidates(key), async (sent) => {
          // node:http drops trailing spaces and tabs of a header value (RFC 9110 whitespace), nothing else.
          const want = sent.replace(/[ \t]+$/, '') === asSent(key) ? 200 : 401;
          expect(await status(t, `apikey ${sent}`)).toBe(want);
        }),
        { numRuns: 150 },
      );
    }
  });

  it('refuses a missing key, another scheme and a bare scheme', async () => {
    for (const header of ['', 'apikey', 'apikey ', 'Bearer ' + ASCII_KEY, 'apikey' + ASCII_KEY, ASCII_KEY]) expect(await status(ascii, header)).toBe(401);
  });
});
