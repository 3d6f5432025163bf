/**
 * The HTTP fast lane (http/fast-lane) answers exactly as node:http does. A
 * random sequence of requests goes, pipelined on one connection and cut into
 * random pieces, to a gateway with the lane, and one request at a time to one
 * without it (`api.fastLane: false`); the answers must match one for one: status,
 * the headers a client acts on, and body (the epoch apart, which is random per
 * node). The sequences mix what the lane takes (publishes in any header
 * spelling, batches, GETs under /api/, refusals) with what it must hand to
 * node:http mid-connection (a chunked body, /health, odd header bytes, a
 * repeated Content-Length), and may end with a request that closes the
 * connection. Plus the parser alone on arbitrary bytes.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Parsed, RequestHead, parseRequest } from '../packages/server/src/http/fast-lane/request.js';
import { API_KEY, type TestGateway, startTestGateway } from './helpers.js';
import { type RawAnswer, cut, exchange } from './raw-http.js';

const MAX_BODY = 4096;
let lane: TestGateway;
let plain: TestGateway;
let run = 0;

beforeAll(async () => {
  lane = await startTestGateway({ api: { maxBodyBytes: MAX_BODY } });
  plain = await startTestGateway({ api: { maxBodyBytes: MAX_BODY, fastLane: false } });
});
afterAll(async () => {
  await lane.close();
  await plain.close();
});

const KEY = `apikey ${API_KEY}`;

/** A request as bytes, from its head lines and body. */
function request(line: string, headers: string[], body = ''): string {
  return `${line}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n${body}`;
}

const headerName = (name: string) => fc.constantFrom(name, name.toUpperCase(), name.replace(/^./, (c) => c.toUpperCase()));
const blanks = fc.constantFrom('', ' ', '  ', '\t', ' \t');
/** Headers a client may add that change nothing. */
const harmless = fc.array(
  fc.constantFrom('User-Agent: test/1.0', 'Accept: */*', 'Content-Type: application/json', 'X-Request-Id: abc-123', 'Connection: keep-alive'),
  { maxLength: 3 },
);

/** A publish the lane takes: the three headers in any spelling and order, with harmless ones. */
function plainPublish(channel: string) {
  return fc
    .record({ data: fc.jsonValue({ maxDepth: 2 }), auth: headerName('authorization'), host: headerName('host'), len: headerName('content-length'), pad: blanks, extra: harmless, flip: fc.boolean() })
    .map(({ data, auth, host, len, pad, extra, flip }) => {
      const body = JSON.stringify({ channel, data: data ?? null });
      const own = [`${auth}:${pad}${KEY}${pad}`, `${len}:${pad}${Buffer.byteLength(body)}`, `${host}:${pad}127.0.0.1`];
      return request('POST /api/publish HTTP/1.1', flip ? [...extra, ...own] : [...own, ...extra], body);
    });
}

/** `body` as one chunk and the last. */
const chunked = (body: string) => `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`;

const withBody = (path: string, body: string, extra: string[] = []) =>
  request(`POST ${path} HTTP/1.1`, ['Host: h', `Authorization: ${KEY}`, `Content-Length: ${Buffer.byteLength(body)}`, ...extra], body);

/** One request that keeps the connection open, lane's or node's. */
function anyRequest(channel: string) {
  return fc.oneof(
    { weight: 4, arbitrary: plainPublish(channel) },
    { weight: 1, arbitrary: fc.constant(withBody('/api/publish', JSON.stringify({ channel: 'bad channel!', data: 1 }))) },
    { weight: 1, arbitrary: fc.constant(withBody('/api/publish', '{"channel": "x", "data": ')) },
    { weight: 1, arbitrary: fc.constant(withBody('/api/publish', '')) },
    { weight: 1, arbitrary: fc.constant(withBody('/api/nope', '{}')) },
    { weight: 1, arbitrary: fc.constant(withBody('/api/batch', JSON.stringify({ publications: [{ channel, data: 1 }, { channel: '', data: 2 }, { user: 'u1', data: 3 }] }))) },
    { weight: 1, arbitrary: fc.constant(request('GET /api/channels HTTP/1.1', ['Host: h', `Authorization: ${KEY}`])) },
    { weight: 1, arbitrary: fc.constant(request('GET /api/channels?x=1 HTTP/1.1', [`authorization: ${KEY}`, 'Host: h'])) },
    // node:http's from here: not a path, a body or a header the lane takes.
    { weight: 1, arbitrary: fc.constant(request('GET /health HTTP/1.1', ['Host: h'])) },
    {
      weight: 1,
      arbitrary: fc.constant(
        request('POST /api/publish HTTP/1.1', ['Host: h', `Authorization: ${KEY}`, 'Transfer-Encoding: chunked'], chunked(JSON.stringify({ channel, data: 7 }))),
      ),
    },
    { weight: 1, arbitrary: fc.constant(withBody('/api/publish', JSON.stringify({ channel, data: 'é' }), ['X-Name: caf\u00e9'])) },
    { weight: 1, arbitrary: fc.constant(withBody('/api/publish', JSON.stringify({ channel, data: 'ü€😀' }), ['Connection: keep-alive, x-foo'])) },
  );
}

/** A request node:http refuses to parse (400, then it closes). */
const UNPARSABLE = request('POST /api/publish HTTP/1.1', ['Host: h', `Authorization: ${KEY}`, 'Content-Length: 5', 'Content-Length: 5'], '{"a":');
/** Requests of `anyRequest` that hand the connection to node:http. */
const forNode = (r: string) => /Transfer-Encoding|^GET \/health|X-Name|x-foo/.test(r);

/** A last request after which the server closes the connection. */
const closing = (channel: string) =>
  fc.constantFrom(
    withBody('/api/publish', JSON.stringify({ channel, data: 1 }), ['Connection: close']),
    request('POST /api/publish HTTP/1.1', ['Host: h', 'Authorization: apikey wrong', 'Content-Length: 2'], '{}'),
    request('GET /api/channels HTTP/1.1', ['Host: h']),
    request('GET /api/channels HTTP/1.1', [`Authorization: ${KEY}`]),
    request('POST /api/publish HTTP/1.1', ['Host: h', `Authorization: ${KEY}`, `Content-Length: ${MAX_BODY + 1}`], 'x'.repeat(MAX_BODY + 1)),
    UNPARSABLE,
  );

/** Status, the headers a client acts on, and the body with the node's random epoch taken out. */
function comparable(a: RawAnswer) {
  const { 'content-type': type, connection, 'keep-alive': keepAlive, 'retry-after': retry } = a.headers;
  return { status: a.status, type, connection, keepAlive, retry, body: a.body.replace(/"epoch":"[^"]*"/g, '"epoch":"E"') };
}

describe('HTTP fast lane', () => {
  it('answers any pipelined sequence, cut anywhere, exactly as node:http does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }).chain((n) => {
          const channel = `lane${run++}`;
          return fc.record({
            channel: fc.constant(channel),
            requests: fc.array(anyRequest(channel), { minLength: 1, maxLength: n }),
            last: fc.option(closing(channel), { nil: undefined }),
            cuts: fc.array(fc.nat(), { maxLength: 6 }),
            pauseMs: fc.constantFrom(0, 0, 2),
          });
        }),
        async ({ requests, last, cuts, pauseMs }) => {
          // Once node:http has the connection, a pipelined request it cannot parse loses the answers still due before it (its own
          // behaviour, which the lane does not change): not compared.
          fc.pre(!(last === UNPARSABLE && requests.some(forNode)));
          const all = last === undefined ? requests : [...requests, last];
          const bytes = Buffer.from(all.join(''), 'utf8');
          const pieces = cut(bytes, cuts);
          // node:http, one request at a time: pipelined, it drops the answers still pending when a later request fails to parse.
          const one = all.map((r) => Buffer.from(r, 'utf8'));
          const [a, b] = await Promise.all([exchange(lane.port, pieces, all.length, { pauseMs }), exchange(plain.port, one, all.length, { oneByOne: true })]);
          expect(a.answers.map(comparable)).toEqual(b.answers.map(comparable));
          expect(a.answers.length).toBe(all.length);
          if (last !== undefined) expect(a.closed).toBe(b.closed);
        },
      ),
      { numRuns: 120 },
    );
  });
});

describe('fast lane request parser', () => {
  const limits = { maxHeadBytes: 512, maxBodyBytes: 256 };
  const plainRequest = (body: string) => `POST /api/publish HTTP/1.1\r\nHost: h\r\nAuthorization: ${KEY}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

  it('on any bytes: a length within them, incomplete, or not mine; never a throw', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 700 }),
      // Mostly a request, with a few bytes changed: where a strict parser is tested.
      fc.tuple(fc.string({ maxLength: 80 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 })).map(([body, changes]) => {
        const b = Buffer.from(plainRequest(body), 'utf8');
        for (const [at, v] of changes) b[at % b.length] = v;
        return new Uint8Array(b);
      }),
    );
    fc.assert(
      fc.property(bytes, (raw) => {
        const buf = Buffer.from(raw);
        const n = parseRequest(buf, 0, limits, new RequestHead());
        expect(n === Parsed.Incomplete || n === Parsed.NotMine || (n > 0 && n <= buf.length)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('a plain request is incomplete at every cut and whole with its last byte, body and headers as sent', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (data) => {
        const body = JSON.stringify({ channel: 'c', data });
        const buf = Buffer.from(plainRequest(body) + 'GET /api/next', 'utf8');
        const whole = Buffer.byteLength(plainRequest(body));
        const head = new RequestHead();
        for (let n = 1; n < whole; n++) expect(parseRequest(buf.subarray(0, n), 0, limits, head)).toBe(Parsed.Incomplete);
        expect(parseRequest(buf, 0, limits, head)).toBe(whole);
        expect(head).toMatchObject({ method: 'POST', target: '/api/publish', authorization: KEY, close: false, bodyLength: Buffer.byteLength(body) });
        expect(buf.toString('utf8', head.bodyStart, head.bodyStart + head.bodyLength)).toBe(body);
      }),
      { numRuns: 60 },
    );
  });

  it('leaves to node:http what it does not take', () => {
    const head = new RequestHead();
    const notMine = [
      'GET /health HTTP/1.1\r\n\r\n',
      'POST /api/publish HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}',
      'POST /api/publish HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n',
      'POST /api/publish HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}',
      'POST /api/publish HTTP/1.1\r\nContent-Length: +2\r\n\r\n{}',
      'POST /api/publish HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}',
      'POST /api/publish HTTP/1.1\r\nUpgrade: h2c\r\n\r\n',
      'POST /api/publish HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\n\r\n',
      'POST /api/publish HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n',
      'POST /api/publish HTTP/1.1\r\nX-A\r\n\r\n',
      'POST /api/publish HTTP/1.1\r\nX A: 1\r\n\r\n',
      'POST /api/publish HTTP/1.1\r\nX-A: a\rb\r\n\r\n',
      'POST /api/publish HTTP/1.1\r\nX-A: a\nb\r\n\r\n',
      'POST /api/publish HTTP/1.1\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n',
      'POST /api/publish  HTTP/1.1\r\n\r\n',
      'GET /api/info HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc',
      `POST /api/publish HTTP/1.1\r\nContent-Length: ${limits.maxBodyBytes + 1}\r\n\r\n`,
      `POST /api/publish HTTP/1.1\r\nX-Pad: ${'a'.repeat(limits.maxHeadBytes)}\r\n\r\n`,
      'PUT /api/publish HTTP/1.1\r\n\r\n',
      'POST /apix HTTP/1.1\r\n\r\n',
    ];
    // Each with a Host header, so that it is refused for its own reason.
    const withHost = (text: string) => text.replace(/^([^\r]*\r\n)/, '$1Host: h\r\n');
    for (const text of notMine) expect(parseRequest(Buffer.from(withHost(text), 'latin1'), 0, limits, head), JSON.stringify(text)).toBe(Parsed.NotMine);
    for (const text of ['POST /api/publish HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}', 'POST /api/publish HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'])
      expect(parseRequest(Buffer.from(text), 0, limits, head)).toBe(Parsed.NotMine);
    // A prefix that may still become an API request waits; one that cannot does not.
    expect(parseRequest(Buffer.from('POS'), 0, limits, head)).toBe(Parsed.Incomplete);
    expect(parseRequest(Buffer.from('GE'), 0, limits, head)).toBe(Parsed.Incomplete);
    expect(parseRequest(Buffer.from('GET /w'), 0, limits, head)).toBe(Parsed.NotMine);
    expect(parseRequest(Buffer.from('POST /api/publish HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n'), 0, limits, head)).toBeGreaterThan(0);
    expect(head.close).toBe(true);
  });
});
