/**
 * The fast lane's upgrade parser (http/fast-lane/upgrade.ts) against
 * node:http's own: every request it takes as a WebSocket upgrade, node:http
 * also emits as 'upgrade', with the same target and the same headers, names
 * and values. What it leaves to node:http is not compared (node:http parses
 * it). Requests are built from the headers browsers and client libraries
 * send, in any spelling, with random tokens, values and blanks around them,
 * and some have a few bytes changed; every unchanged one with distinct
 * header names must be taken, so a parser that took nothing would fail.
 */
import { type IncomingMessage, type Server, createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Parsed } from '../packages/server/src/http/fast-lane/request.js';
import { type UpgradeHead, parseUpgrade } from '../packages/server/src/http/fast-lane/upgrade.js';

const LIMITS = { maxHeadBytes: 16 * 1024, maxBodyBytes: 0 };

/** What node:http made of one request. */
type Seen = { kind: 'upgrade'; url: string; headers: IncomingMessage['headers']; head: Buffer } | { kind: 'request' | 'error' | 'closed' };

let server: Server;
let port = 0;
let pending: ((seen: Seen) => void) | undefined;
const settle = (seen: Seen) => {
  const done = pending;
  pending = undefined;
  done?.(seen);
};

beforeAll(async () => {
  server = createServer((_req, res) => {
    settle({ kind: 'request' });
    res.end();
  });
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    settle({ kind: 'upgrade', url: req.url ?? '', headers: req.headers, head });
    socket.destroy();
  });
  server.on('clientError', (_err, socket) => {
    settle({ kind: 'error' });
    socket.destroy();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

/** Send `bytes` on a new connection; what node:http did with them (bounded by a 2 s timer). */
function nodeSees(bytes: Buffer): Promise<Seen> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const finish = (seen: Seen) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(seen);
    };
    // Only this exchange's own timers may end it: they run after the next one has begun.
    const closed = () => pending === finish && settle({ kind: 'closed' });
    const timer = setTimeout(closed, 2000);
    pending = finish;
    socket.on('error', () => {});
    socket.on('close', () => setTimeout(closed, 50));
    socket.end(bytes);
  });
}

const spelled = (name: string) => fc.constantFrom(name, name.toLowerCase(), name.toUpperCase());
const blanks = fc.constantFrom('', ' ', '  ', '\t', ' \t ');
const value = fc.stringMatching(/^[\x21-\x7e][\x20-\x7e\t]{0,24}[\x21-\x7e]$|^[\x21-\x7e]?$/);
const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);

/** A header line: name, then a value with blanks around it. */
const line = (name: fc.Arbitrary<string>, val: fc.Arbitrary<string>) =>
  fc.tuple(name, blanks, val, blanks).map(([n, before, v, after]) => ({ name: n, text: `${n}:${before}${v}${after}` }));

const upgradeRequest = fc
  .record({
    target: fc.oneof(fc.constant('/ws'), fc.constant('/ws?token=abc.def.ghi&x=1'), fc.stringMatching(/^\/[\x21-\x7e]{0,40}$/)),
    own: fc.tuple(
      line(spelled('Host'), fc.constantFrom('127.0.0.1:8080', 'example.com')),
      line(spelled('Upgrade'), fc.constantFrom('websocket', 'WebSocket')),
      line(spelled('Connection'), fc.constantFrom('Upgrade', 'keep-alive, Upgrade', 'upgrade,keep-alive', 'keep-alive ,Upgrade')),
      line(spelled('Sec-WebSocket-Key'), fc.constant('dGhlIHNhbXBsZSBub25jZQ==')),
      line(spelled('Sec-WebSocket-Version'), fc.constant('13')),
    ),
    extra: fc.array(
      fc.oneof(
        line(fc.constantFrom('Origin', 'User-Agent', 'Cookie', 'X-Forwarded-For', 'Sec-WebSocket-Protocol', 'Set-Cookie', '__proto__', 'constructor'), value),
        line(token, value),
      ),
      { maxLength: 6 },
    ),
    order: fc.nat(),
    changes: fc.oneof(
      { weight: 3, arbitrary: fc.constant([] as Array<[number, number]>) },
      { weight: 1, arbitrary: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }) },
    ),
  })
  .map(({ target, own, extra, order, changes }) => {
    const lines = [...own, ...extra];
    const at = order % (lines.length + 1);
    const ordered = [...lines.slice(at), ...lines.slice(0, at)];
    const text = `GET ${target} HTTP/1.1\r\n${ordered.map((l) => `${l.text}\r\n`).join('')}\r\n`;
    const bytes = Buffer.concat([Buffer.from(text, 'latin1'), Buffer.from('\x81\x05hello', 'latin1')]);
    for (const [i, v] of changes) bytes[i % text.length] = v;
    const names = ordered.map((l) => l.name.toLowerCase());
    const distinct = new Set(names).size === names.length && !names.includes('set-cookie') && !names.includes('__proto__');
    // A tab among the connection options is left to node:http (see upgrade.ts).
    const tabbed = ordered.some((l) => l.name.toLowerCase() === 'connection' && l.text.includes('\t'));
    return { bytes, headLength: text.length, mustTake: changes.length === 0 && distinct && !tabbed };
  });

describe('fast lane upgrade parser', () => {
  it('takes only what node:http emits as the same upgrade, and every plain upgrade', async () => {
    await fc.assert(
      fc.asyncProperty(upgradeRequest, async ({ bytes, headLength, mustTake }) => {
        const out: UpgradeHead = { target: '', headers: {} };
        const length = parseUpgrade(bytes, LIMITS, out);
        if (mustTake) expect(length).toBe(headLength);
        if (length <= 0) return;
        const seen = await nodeSees(bytes);
        expect(seen.kind).toBe('upgrade');
        if (seen.kind !== 'upgrade') return;
        expect(out.target).toBe(seen.url);
        expect({ ...out.headers }).toEqual(seen.headers);
        // What node:http read past the head is what the lane hands on as the WebSocket's first bytes.
        expect(bytes.subarray(length).subarray(0, seen.head.length).equals(seen.head)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('on any bytes: a head length within them, incomplete, or not mine; never a throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (raw) => {
        const buf = Buffer.from(raw);
        const n = parseUpgrade(buf, LIMITS, { target: '', headers: {} });
        expect(n === Parsed.Incomplete || n === Parsed.NotMine || (n > 0 && n <= buf.length)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('is incomplete at every cut of a plain upgrade, and whole with its last byte', () => {
    const text = 'GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
    const buf = Buffer.from(text, 'latin1');
    for (let n = 1; n < buf.length; n++) expect(parseUpgrade(buf.subarray(0, n), LIMITS, { target: '', headers: {} })).toBe(Parsed.Incomplete);
    expect(parseUpgrade(buf, LIMITS, { target: '', headers: {} })).toBe(buf.length);
  });
});
