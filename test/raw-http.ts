/**
 * A raw HTTP/1.1 client for tests of the gateway's HTTP front: requests go
 * out as the exact bytes given, in the pieces given, and every answer on the
 * connection is read back (status, headers, body) until as many as expected
 * have come, the server closes, or a deadline passes.
 */
import { connect } from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface Exchange {
  answers: RawAnswer[];
  /** The server closed the connection. */
  closed: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Parse every whole answer at the start of `buf`; returns the bytes left over. */
function takeAnswers(buf: Buffer, into: RawAnswer[]): Buffer {
  for (;;) {
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return buf;
    const [statusLine, ...lines] = buf.toString('latin1', 0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const colon = l.indexOf(':');
      headers[l.slice(0, colon).trim().toLowerCase()] = l.slice(colon + 1).trim();
    }
    const status = Number(statusLine!.split(' ')[1]);
    if (headers['transfer-encoding'] === 'chunked') {
      const body = dechunk(buf, end + 4);
      if (!body) return buf;
      into.push({ status, headers, body: body.text });
      buf = buf.subarray(body.next);
      continue;
    }
    const length = Number(headers['content-length'] ?? 0);
    if (buf.length < end + 4 + length) return buf;
    into.push({ status, headers, body: buf.toString('utf8', end + 4, end + 4 + length) });
    buf = buf.subarray(end + 4 + length);
  }
}

/** A chunked body starting at `at`, once all of it is here. */
function dechunk(buf: Buffer, at: number): { text: string; next: number } | undefined {
  let text = '';
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = parseInt(buf.toString('latin1', at, eol), 16);
    if (buf.length < eol + 2 + size + 2) return undefined;
    if (size === 0) return { text, next: eol + 4 };
    text += buf.toString('utf8', eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

/**
 * Send `pieces` on one new connection, `pauseMs` apart (or `oneByOne`: each
 * piece a request, sent once the one before is answered), and collect answers
 * until `expected` arrived, the server closed, or `timeoutMs` passed.
 */
export async function exchange(port: number, pieces: Buffer[], expected: number, { pauseMs = 0, timeoutMs = 5000, oneByOne = false } = {}): Promise<Exchange> {
  const socket = connect({ host: '127.0.0.1', port, noDelay: true });
  const answers: RawAnswer[] = [];
  let rest: Buffer = Buffer.alloc(0);
  let closed = false;
  socket.on('data', (chunk) => {
    rest = takeAnswers(Buffer.concat([rest, chunk]), answers);
  });
  socket.on('error', () => {});
  const gone = new Promise<void>((r) => socket.on('close', () => r()));
  void gone.then(() => (closed = true));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const deadline = Date.now() + timeoutMs;
  for (const [i, piece] of pieces.entries()) {
    if (closed) break;
    socket.write(piece);
    if (oneByOne) while (answers.length <= i && !closed && Date.now() < deadline) await sleep(2);
    else if (pauseMs > 0) await sleep(pauseMs);
    else await new Promise((r) => setImmediate(r));
  }
  while (answers.length < expected && !closed && Date.now() < deadline) await sleep(5);
  // A close that follows the last answer belongs to the exchange too.
  await Promise.race([gone, sleep(50)]);
  socket.destroy();
  return { answers, closed };
}

/** Cut `bytes` at the given offsets (any order, any range: taken modulo its length). */
export function cut(bytes: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((a) => a % Math.max(1, bytes.length)))].filter((p) => p > 0).sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    pieces.push(bytes.subarray(from, p));
    from = p;
  }
  pieces.push(bytes.subarray(from));
  return pieces;
}
