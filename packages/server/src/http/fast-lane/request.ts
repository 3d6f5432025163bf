/**
 * The fast lane's request parser: it recognises only the plain request a
 * backend's HTTP client sends to the API (`POST` or `GET` under `/api/`,
 * HTTP/1.1, a `Content-Length` body or none) and says "not mine" for
 * everything else, which node:http then parses with all its rules and
 * limits. Being strict costs nothing: whatever it refuses is still answered,
 * by node:http.
 */

/** What `parseRequest` found at the start of the bytes, when not a whole request (its length). */
export const Parsed = {
  /** A plain request, not all of it here yet. */
  Incomplete: 0,
  /** Not a request for the fast lane (or not a valid one): node:http takes the connection from here. */
  NotMine: -1,
} as const;

/** The parsed request, rewritten in place by each `parseRequest` (no object per request). */
export class RequestHead {
  method: 'GET' | 'POST' = 'GET';
  /** The request target as sent (path and query). */
  target = '';
  authorization: string | undefined = undefined;
  /** The client asked to close the connection after this answer. */
  close = false;
  bodyStart = 0;
  bodyLength = 0;
}

export interface RequestLimits {
  /** Request line and headers, with the blank line after them. */
  maxHeadBytes: number;
  maxBodyBytes: number;
}

const CR = 13;
const LF = 10;
const SPACE = 32;
const TAB = 9;
export const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const POST = Buffer.from('POST /api/', 'latin1');
const GET = Buffer.from('GET /api/', 'latin1');
const VERSION = Buffer.from(' HTTP/1.1\r\n', 'latin1');
/** Longest request target the lane takes (API paths and a short query are far shorter). */
export const MAX_TARGET = 2048;
/** More digits than any body the limits allow. */
const MAX_LENGTH_DIGITS = 12;

/** Characters of an HTTP token (RFC 9110 tchar), by code. */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TOKEN[c.charCodeAt(0)] = 1;

/**
 * Parse the request starting at `buf[start]` (the bytes run to the end of
 * `buf`). Returns its whole length (head and body) when all of it is here,
 * `Parsed.Incomplete` when more must arrive, `Parsed.NotMine` when node:http
 * should have it. Only bytes of this request are looked at.
 */
export function parseRequest(buf: Buffer, start: number, limits: RequestLimits, out: RequestHead): number {
  const available = buf.length - start;
  const method = startsWith(buf, start, POST) ? 'POST' : startsWith(buf, start, GET) ? 'GET' : undefined;
  if (method === undefined) return available < POST.length && couldBecomeMine(buf, start) ? Parsed.Incomplete : Parsed.NotMine;
  const end = buf.indexOf(HEAD_END, start);
  if (end < 0) return available >= limits.maxHeadBytes ? Parsed.NotMine : Parsed.Incomplete;
  const headLength = end + 4 - start;
  if (headLength > limits.maxHeadBytes) return Parsed.NotMine;
  const lineEnd = requestLine(buf, start + method.length + 1, end, out);
  if (lineEnd < 0) return Parsed.NotMine;
  out.method = method;
  const length = headers(buf, lineEnd, end + 2, out);
  if (length < 0 || length > limits.maxBodyBytes || (method === 'GET' && length > 0)) return Parsed.NotMine;
  out.bodyStart = end + 4;
  out.bodyLength = length;
  return available < headLength + length ? Parsed.Incomplete : headLength + length;
}

export function startsWith(buf: Buffer, at: number, prefix: Buffer): boolean {
  if (buf.length - at < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[at + i] !== prefix[i]) return false;
  return true;
}

/** The few bytes here could still begin `POST /api/` or `GET /api/`. */
function couldBecomeMine(buf: Buffer, at: number): boolean {
  const prefixOf = (p: Buffer) => {
    for (let i = at; i < buf.length; i++) if (buf[i] !== p[i - at]) return false;
    return true;
  };
  return prefixOf(POST) || prefixOf(GET);
}

/** The target from `at` (just after the method and its space) to ` HTTP/1.1\r\n`; returns where the headers begin, or -1. */
function requestLine(buf: Buffer, at: number, headEnd: number, out: RequestHead): number {
  let i = at;
  // Visible ASCII only: no spaces, controls or bytes above 0x7e in a target the lane takes.
  while (i < headEnd && buf[i]! > SPACE && buf[i]! < 127) i++;
  const stop = i;
  if (stop - at > MAX_TARGET || !startsWith(buf, stop, VERSION)) return -1;
  out.target = buf.toString('latin1', at, stop);
  return stop + VERSION.length;
}

/**
 * Header lines from `at` to `stop` (the CRLF that ends the last one). Returns
 * the body's length (0 without Content-Length), or -1 when a header makes the
 * request one for node:http: no Host or two, a transfer coding, `Expect`, `Upgrade`, a
 * connection option other than keep-alive or close, a repeated
 * Content-Length or Authorization, line folding, or a byte that is not
 * visible ASCII, space or tab.
 */
function headers(buf: Buffer, at: number, stop: number, out: RequestHead): number {
  out.authorization = undefined;
  out.close = false;
  let length = -2;
  let host = false;
  for (let line = at; line < stop; ) {
    const colon = headerName(buf, line, stop);
    if (colon < 0) return -1;
    const eol = buf.indexOf(CR, colon);
    if (eol < 0 || eol > stop || buf[eol + 1] !== LF || !visible(buf, colon + 1, eol)) return -1;
    let vs = colon + 1;
    let ve = eol;
    while (vs < ve && isBlank(buf[vs]!)) vs++;
    while (ve > vs && isBlank(buf[ve - 1]!)) ve--;
    const known = headerOf(buf, line, colon);
    if (known === Header.ContentLength) {
      if (length !== -2) return -1;
      length = digits(buf, vs, ve);
      if (length < 0) return -1;
    } else if (known === Header.Authorization) {
      if (out.authorization !== undefined) return -1;
      out.authorization = buf.toString('latin1', vs, ve);
    } else if (known === Header.Connection) {
      const close = connectionOption(buf, vs, ve);
      if (close === undefined) return -1;
      out.close ||= close;
    } else if (known === Header.Host) {
      if (host) return -1;
      host = true;
    } else if (known === Header.Refused) return -1;
    line = eol + 2;
  }
  // node:http answers an HTTP/1.1 request without Host 400 (its requireHostHeader): leave that to it.
  if (!host) return -1;
  return length === -2 ? 0 : length;
}

/** The colon ending a non-empty token name that starts the line at `at`, or -1. */
function headerName(buf: Buffer, at: number, stop: number): number {
  let i = at;
  while (i < stop && TOKEN[buf[i]!] === 1) i++;
  return i > at && buf[i] === 58 ? i : -1;
}

function visible(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    if ((c < SPACE && c !== TAB) || c > 126) return false;
  }
  return true;
}

/** Space or tab: what surrounds a header value and is not part of it. */
function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

function digits(buf: Buffer, from: number, to: number): number {
  if (to <= from || to - from > MAX_LENGTH_DIGITS) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

const enum Header {
  Other,
  ContentLength,
  Authorization,
  Connection,
  Host,
  /** Headers that make a request one for node:http. */
  Refused,
}

const NAMES: Array<[string, Header]> = [
  ['content-length', Header.ContentLength],
  ['authorization', Header.Authorization],
  ['connection', Header.Connection],
  ['host', Header.Host],
  ['transfer-encoding', Header.Refused],
  ['expect', Header.Refused],
  ['upgrade', Header.Refused],
];

function headerOf(buf: Buffer, from: number, to: number): Header {
  for (const [name, header] of NAMES) if (to - from === name.length && sameLowercase(buf, from, name)) return header;
  return Header.Other;
}

/** `buf` at `from` spells `lower`, letters in either case. */
function sameLowercase(buf: Buffer, from: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if ((buf[from + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** `close` → true, `keep-alive` → false, anything else (a list, `upgrade`) → undefined. */
function connectionOption(buf: Buffer, from: number, to: number): boolean | undefined {
  if (to - from === 5 && sameLowercase(buf, from, 'close')) return true;
  if (to - from === 10 && sameLowercase(buf, from, 'keep-alive')) return false;
  return undefined;
}
