/**
 * Requests that take too long or are refused do not keep their socket: a
 * body that stalls for `limits.bodyIdleTimeout` is answered 408 and its socket
 * closed (BodyIdleWatch), and an error answered before the request was read to its end (a 401
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

/** A request whose body is being read, and how far it had got at the last look. */
interface Reading {
  res: ServerResponse;
  bytesRead: number;
  /** When `bytesRead` last moved (Date.now()). */
  movedAt: number;
}

/**
 * Answers 408 and closes when the body of a request pauses longer than
 * `idleMs` (0: no limit). One interval per node looks at every body being
 * read and compares its socket's byte count with the last look, instead of a
 * timer (and its closures) per request, which was a visible share of the
 * publish path's garbage. A stall is therefore caught between `idleMs` and
 * 1.25 × `idleMs` after it began.
 */
export class BodyIdleWatch {
  private readonly reading = new Map<IncomingMessage, Reading>();
  private timer?: NodeJS.Timeout;
  /** One listener for every request ('end' is emitted with the request as `this`). */
  private readonly forget: (this: IncomingMessage) => void;

  constructor(private readonly idleMs: number) {
    const reading = this.reading;
    this.forget = function (this: IncomingMessage) {
      reading.delete(this);
    };
  }

  watch(req: IncomingMessage, res: ServerResponse): void {
    if (req.complete || this.idleMs <= 0 || !hasBody(req)) return;
    this.reading.set(req, { res, bytesRead: req.socket.bytesRead, movedAt: Date.now() });
    req.on('end', this.forget);
    req.on('close', this.forget);
    this.timer ??= setInterval(() => this.look(), Math.max(10, this.idleMs / 4)).unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.reading.clear();
  }

  private look(): void {
    const now = Date.now();
    for (const [req, r] of this.reading) {
      const bytesRead = req.socket?.bytesRead ?? r.bytesRead;
      if (bytesRead !== r.bytesRead) {
        r.bytesRead = bytesRead;
        r.movedAt = now;
      } else if (now - r.movedAt >= this.idleMs) {
        this.reading.delete(req);
        onBodyIdle(req, r.res);
      }
    }
    if (this.reading.size === 0) this.close();
  }
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
