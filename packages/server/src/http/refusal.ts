/**
 * The whole HTTP answer written straight to a socket that is refused before
 * any response object exists (a refused upgrade, a request node:http could
 * not parse), after which the socket closes.
 */
import { STATUS_CODES } from 'node:http';

/** Statuses that pass again once the load drops: the client is told to retry after a second. */
const RETRY_LATER = new Set([429, 503]);

/** `message` becomes a plain-text body; `extra` is more header lines, each ending in CRLF. */
export function httpRefusal(status: number, message = '', extra = ''): string {
  const retry = RETRY_LATER.has(status) ? 'Retry-After: 1\r\n' : '';
  const type = message === '' ? '' : 'Content-Type: text/plain\r\n';
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Refused'}\r\nConnection: close\r\n${retry}${extra}${type}Content-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`;
}
