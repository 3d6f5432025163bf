/**
 * The fast lane's parser for a WebSocket upgrade, the first request of a
 * connection: `GET <target> HTTP/1.1` with `Upgrade: websocket` and an
 * `upgrade` connection option. The headers become the object node:http would
 * give the upgrade's listener. As strict as request.ts: a repeated header,
 * a body, line folding or a byte that is not visible ASCII, space or tab,
 * and node:http parses the request instead.
 */
import { CR, HEAD_END, LF, MAX_TARGET, Parsed, type RequestLimits, SPACE, VERSION, headerName, isBlank, startsWith, visible } from './request.js';

const GET = Buffer.from('GET /', 'latin1');
/** More header lines than a browser or client library sends on an upgrade. */
const MAX_HEADERS = 64;

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
  let i = GET.length - 1;
  while (i < end && buf[i]! > SPACE && buf[i]! < 127) i++;
  if (i - 4 > MAX_TARGET || !startsWith(buf, i, VERSION)) return Parsed.NotMine;
  const headers = headerObject(buf, i + VERSION.length, end + 2);
  if (!headers || !isWebSocketUpgrade(headers)) return Parsed.NotMine;
  out.target = buf.toString('latin1', 4, i);
  out.headers = headers;
  return end + 4;
}

/** Header lines from `at` to `stop` as lowercase name → trimmed value, or undefined when node:http should judge them. */
function headerObject(buf: Buffer, at: number, stop: number): Record<string, string> | undefined {
  // No prototype: a header named __proto__ or constructor is just a header.
  const headers = Object.create(null) as Record<string, string>;
  let count = 0;
  for (let line = at; line < stop; ) {
    const colon = headerName(buf, line, stop);
    if (colon < 0 || ++count > MAX_HEADERS) return undefined;
    const eol = buf.indexOf(CR, colon);
    if (eol < 0 || eol > stop || buf[eol + 1] !== LF || !visible(buf, colon + 1, eol)) return undefined;
    let vs = colon + 1;
    let ve = eol;
    while (vs < ve && isBlank(buf[vs]!)) vs++;
    while (ve > vs && isBlank(buf[ve - 1]!)) ve--;
    const name = buf.toString('latin1', line, colon).toLowerCase();
    // node:http joins some repeated headers and drops others: rules the lane does not copy.
    if (Object.hasOwn(headers, name)) return undefined;
    headers[name] = buf.toString('latin1', vs, ve);
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
