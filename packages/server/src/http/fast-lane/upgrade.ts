/**
 * The fast lane's parser for a WebSocket upgrade, the first request of a
 * connection: `GET <target> HTTP/1.1` with `Upgrade: websocket` and an
 * `upgrade` connection option. The headers become the object node:http would
 * give the upgrade's listener. As strict as request.ts: a repeated header,
 * a body, line folding or a byte that is not visible ASCII, space or tab,
 * and node:http parses the request instead.
 *
 * It works on the head as one latin1 string: a connect storm meets this code
 * cold, and a few native string and regexp calls cost far less there than a
 * loop over the bytes run by the interpreter.
 */
import { HEAD_END, MAX_TARGET, Parsed, type RequestLimits, startsWith } from './request.js';

const GET = Buffer.from('GET /', 'latin1');
/** More header lines than a browser or client library sends on an upgrade. */
const MAX_HEADERS = 64;
/** A byte that is not visible ASCII, space or tab, or a CR or LF that is not part of a CRLF. */
const BAD_BYTES = /[^\t\x20-\x7e\r\n]|\r(?!\n)|(?<!\r)\n/;
/** The request line, with its target: no space or tab in it, and visible ASCII as BAD_BYTES checked. */
const REQUEST_LINE = /^GET (\/[^ \t]*) HTTP\/1\.1$/;
/** An HTTP token (RFC 9110 tchar), the only thing a header name may be. */
export const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The parsed upgrade request: what its listener reads of an IncomingMessage. */
export interface UpgradeHead {
  target: string;
  headers: Record<string, string>;
}

/**
 * Parse the upgrade request at the start of `buf`. Returns the length of its
 * head (what follows belongs to the WebSocket), `Parsed.Incomplete` or
 * `Parsed.NotMine`; on success `out` holds the target and headers.
 */
export function parseUpgrade(buf: Buffer, limits: RequestLimits, out: UpgradeHead): number {
  if (!startsWith(buf, 0, GET)) return buf.length < GET.length && startsWith(GET, 0, buf) ? Parsed.Incomplete : Parsed.NotMine;
  const end = buf.indexOf(HEAD_END);
  if (end < 0) return buf.length >= limits.maxHeadBytes ? Parsed.NotMine : Parsed.Incomplete;
  if (end + 4 > limits.maxHeadBytes) return Parsed.NotMine;
  // Every line ends with CRLF, the last header's too.
  const text = buf.toString('latin1', 0, end + 2);
  if (BAD_BYTES.test(text)) return Parsed.NotMine;
  const lineEnd = text.indexOf('\r\n');
  const line = REQUEST_LINE.exec(text.slice(0, lineEnd));
  if (!line || line[1]!.length > MAX_TARGET) return Parsed.NotMine;
  const headers = headerObject(text, lineEnd + 2);
  if (!headers || !isWebSocketUpgrade(headers)) return Parsed.NotMine;
  out.target = line[1]!;
  out.headers = headers;
  return end + 4;
}

/** The header lines of `text` from `at` as lowercase name → trimmed value, or undefined when node:http should judge them. */
function headerObject(text: string, at: number): Record<string, string> | undefined {
  // No prototype: a header named constructor or toString is just a header.
  const headers = Object.create(null) as Record<string, string>;
  let count = 0;
  for (let line = at; line < text.length; ) {
    const eol = text.indexOf('\r\n', line);
    const colon = text.indexOf(':', line);
    if (colon < 0 || colon > eol || ++count > MAX_HEADERS) return undefined;
    const name = text.slice(line, colon);
    // A line that starts with a blank (folding) or a name with one in it fails here.
    if (!HTTP_TOKEN.test(name)) return undefined;
    const key = name.toLowerCase();
    // node:http joins some repeated headers and drops others, gives Set-Cookie as an array and loses a __proto__
    // header: rules the lane does not copy.
    if (key in headers || key === 'set-cookie' || key === '__proto__') return undefined;
    const raw = text.slice(colon + 1, eol);
    // node:http's parser misses the upgrade option before a tab (`Upgrade\t`): a tab among the options is left to it.
    if (key === 'connection' && raw.includes('\t')) return undefined;
    // BAD_BYTES left only space and tab for trim() to take.
    headers[key] = raw.trim();
    line = eol + 2;
  }
  return headers;
}

/** What makes node:http emit 'upgrade' for a WebSocket: Upgrade: websocket, an upgrade connection option, a Host, no body. */
function isWebSocketUpgrade(h: Record<string, string>): boolean {
  if (h.host === undefined || h['content-length'] !== undefined || h['transfer-encoding'] !== undefined) return false;
  if (h.upgrade?.toLowerCase() !== 'websocket' || h.connection === undefined) return false;
  return h.connection.split(',').some((option) => option.trim().toLowerCase() === 'upgrade');
}
