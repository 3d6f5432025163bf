/** The bytes of the fast lane's answers: the headers node:http would send for the same JSON answer. */
import { STATUS_CODES } from 'node:http';
import { ErrorCode } from '@tidings/protocol';
import { HttpError } from '../json.js';

/** An answer's status line and body, and whether the connection ends after it. */
export interface Answer {
  text: string;
  close: boolean;
}

let dateSecond = -1;
let dateText = '';

/** The Date header's value, made once a second as node:http does. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/**
 * A whole HTTP/1.1 answer with a JSON body. `keepAliveSeconds` is what the
 * client is told it may keep the idle connection (node:http's Keep-Alive
 * hint, which clients such as undici use to stop reusing a socket in time).
 */
export function answerBytes(status: number, json: string, close: boolean, keepAliveSeconds: number, retryAfter = false): Answer {
  const connection = close ? 'Connection: close\r\n' : `Connection: keep-alive\r\nKeep-Alive: timeout=${keepAliveSeconds}\r\n`;
  const retry = retryAfter ? 'Retry-After: 1\r\n' : '';
  const head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\n${retry}Date: ${httpDate()}\r\n${connection}\r\n`;
  return { text: head + json, close };
}

/**
 * The answer to a refusal, as `sendError` words it on node:http: a 503 says
 * when to retry, and a 401 closes the connection (a refused client keeps no
 * socket). Anything but an HttpError is a 500 that names nothing.
 */
export function errorAnswer(err: unknown, keepAliveSeconds: number, closeAnyway: boolean): Answer {
  const e = err instanceof HttpError ? err : new HttpError(500, ErrorCode.Internal, 'internal error');
  const json = JSON.stringify({ error: { code: e.code, message: e.message } });
  return answerBytes(e.status, json, closeAnyway || e.status === 401 || e.status === 413, keepAliveSeconds, e.status === 503);
}
