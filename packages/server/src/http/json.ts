/** Small helpers for JSON over node:http: bounded body reading and error replies. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '@tidings/protocol';
import { closeAfterAnswer } from './request-limits.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    /** Protocol error code (docs/protocol.md), so API and socket errors read alike. */
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const JSON_TYPE = 'application/json; charset=utf-8';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  const text = JSON.stringify(body);
  const length = Buffer.byteLength(text);
  // No spread of an empty object on the usual answer.
  res.writeHead(status, headers ? { 'content-type': JSON_TYPE, 'content-length': length, ...headers } : { 'content-type': JSON_TYPE, 'content-length': length });
  res.end(text);
}

export function sendError(res: ServerResponse, err: HttpError): void {
  const headers = err.status === 503 ? { 'retry-after': '1' } : undefined;
  // A refused client still sending (an unauthenticated body, one past the limit) keeps no socket.
  if (err.status === 401 || err.status === 413 || !res.req.complete) closeAfterAnswer(res);
  sendJson(res, err.status, { error: { code: err.code, message: err.message } }, headers);
}

/**
 * Read and parse a JSON body of at most `limit` bytes. Plain 'data' events,
 * not `for await`: an async iterator per request was a visible part of the
 * publish path's cost. Past the limit the rest is drained, unread, so the 413
 * still reaches the client.
 */
export function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(new HttpError(413, ErrorCode.BadRequest, `body larger than ${limit} bytes`));
  return new Promise((resolve, reject) => {
    // Most bodies arrive in one chunk: keep it as is, and only gather when a second one comes.
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.resume();
        return reject(new HttpError(413, ErrorCode.BadRequest, `body larger than ${limit} bytes`));
      }
      if (first === undefined) first = chunk;
      else (chunks ??= [first]).push(chunk);
    };
    req.on('data', onData);
    // 'end' and 'error' each come at most once: plain listeners, not once() wrappers.
    req.on('end', () => {
      if (size > limit) return;
      const body = chunks ? Buffer.concat(chunks, size) : first;
      settle(body === undefined ? '' : body.toString('utf8'), resolve, reject);
    });
    // A client that hangs up mid-body is expected misbehaviour, not a server failure: a 400, logged by nobody.
    req.on('error', () => reject(new HttpError(400, ErrorCode.BadRequest, 'request body aborted')));
  });
}

function settle(text: string, resolve: (v: unknown) => void, reject: (e: unknown) => void): void {
  try {
    resolve(parseJsonBody(text));
  } catch (err) {
    reject(err);
  }
}

/** A request body as JSON: an empty one is `{}`, one that does not parse a 400. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, ErrorCode.BadRequest, 'body is not valid JSON');
  }
}
