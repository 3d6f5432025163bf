/**
 * Requests that take too long or are refused do not keep their socket: a
 * body that stalls for `limits.bodyIdleTimeout` is answered 408 and its socket
 * closed, and an error answered before the request was read to its end (a 401
 * to a client still sending, a 413, a 408) closes the connection instead of
 * reading on. Headers and whole-request deadlines are node:http's own
 * (`headersTimeout`, `requestTimeout`, set by the gateway).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '@tidings/protocol';

/** How long a refused client has to read the answer before its socket is destroyed. */
const CLOSE_GRACE_MS = 1000;

/** After this answer is written, end the connection; destroy it if the client does not close its side. */
export function closeAfterAnswer(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('connection', 'close');
  res.once('finish', () => {
    const socket = res.socket;
    if (!socket) return;
    socket.end();
    setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
  });
}

/** Answer 408 and close when the body of `req` pauses longer than `idleMs` (0: no limit). */
export function limitBodyIdle(req: IncomingMessage, res: ServerResponse, idleMs: number): void {
  if (req.complete || idleMs <= 0 || !hasBody(req)) return;
  req.setTimeout(idleMs, () => onBodyIdle(req, res));
  req.once('end', () => req.setTimeout(0));
}

/** Only a request with a body is watched: a GET (an SSE stream above all) is never read to its 'end'. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

function onBodyIdle(req: IncomingMessage, res: ServerResponse): void {
  if (res.headersSent) return void req.socket.destroy();
  closeAfterAnswer(res);
  const text = JSON.stringify({ error: { code: ErrorCode.BadRequest, message: 'request body too slow' } });
  res.writeHead(408, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
