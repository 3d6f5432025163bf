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
  req: IncomingMessage;
  res: ServerResponse;
  bytesRead: number;
  /** When `bytesRead` last moved (Date.now()). */
  movedAt: number;
  /** Index in BodyIdleWatch.reading; -1 once forgotten. */
  slot: number;
}

const READING = Symbol('tidings.bodyReading');
type Watched = IncomingMessage & { [READING]?: Reading };

/**
 * Answers 408 and closes when the body of a request pauses longer than
 * `idleMs` (0: no limit). One interval per node looks at every body being
 * read and compares its socket's byte count with the last look, instead of a
 * timer (and its closures) per request, which was a visible share of the
 * publish path's garbage. Requests sit in a plain array (removed by swapping
 * with the last), not a Map whose tables grow and shrink with the traffic. A
 * stall is caught between `idleMs` and 1.25 × `idleMs` after it began.
 */
export class BodyIdleWatch {
  private readonly reading: Reading[] = [];
  private timer?: NodeJS.Timeout;
  /** One listener for every request ('end' and 'close' are emitted with the request as `this`). */
  private readonly forget: (this: Watched) => void;

  constructor(private readonly idleMs: number) {
    const watch = this;
    this.forget = function (this: Watched) {
      const r = this[READING];
      if (r) watch.remove(r);
    };
  }

  watch(req: IncomingMessage, res: ServerResponse): void {
    if (req.complete || this.idleMs <= 0 || !hasBody(req)) return;
    const r: Reading = { req, res, bytesRead: req.socket.bytesRead, movedAt: Date.now(), slot: this.reading.length };
    this.reading.push(r);
    (req as Watched)[READING] = r;
    req.on('end', this.forget);
    req.on('close', this.forget);
    this.timer ??= setInterval(() => this.look(), Math.max(10, this.idleMs / 4)).unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const r of this.reading.splice(0)) r.slot = -1;
  }

  private remove(r: Reading): void {
    if (r.slot < 0) return;
    const last = this.reading.pop()!;
    if (last !== r) {
      this.reading[r.slot] = last;
      last.slot = r.slot;
    }
    r.slot = -1;
    (r.req as Watched)[READING] = undefined;
  }

  private look(): void {
    const now = Date.now();
    // Backwards: remove() moves the last entry into the freed slot.
    for (let i = this.reading.length - 1; i >= 0; i--) {
      const r = this.reading[i]!;
      const bytesRead = r.req.socket?.bytesRead ?? r.bytesRead;
      if (bytesRead !== r.bytesRead) {
        r.bytesRead = bytesRead;
        r.movedAt = now;
      } else if (now - r.movedAt >= this.idleMs) {
        this.remove(r);
        onBodyIdle(r.req, r.res);
      }
    }
    if (this.reading.length === 0) this.close();
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
