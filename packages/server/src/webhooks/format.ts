/**
 * A webhook stream: where events go, which ones, how they are written and
 * how a request is signed. Tidings' own endpoints use the Tidings format
 * (event.ts, signature.ts); a Pusher app's webhooks bring the Pusher format
 * (pusher/webhooks.ts), so one delivery machinery (outbox, batching,
 * retries, order) serves both.
 */
import { createHash } from 'node:crypto';
import type { WebhookEndpoint } from '../config/webhooks.js';
import { type TrackedEventName, type WebhookEvent, encodeBatch, encodeEvent } from './event.js';
import { ID_HEADER, SIGNATURE_HEADER, signatureHeader } from './signature.js';

export interface WebhookEncoding {
  /**
   * The queued JSON of an event, with `"time_ms":<ms>` before any data
   * (delivery reads a batch's age from it); undefined when the event is not
   * this stream's.
   */
  encode(event: WebhookEvent, now: number): string | undefined;
  /** The request body of a batch of queued events (built once; a retry sends it again). */
  body(events: readonly string[]): string;
}

export interface WebhookStream {
  url: string;
  /** Names the stream's outbox queue, the same on every node and after a restart. */
  queueKey: string;
  /** The stream in logs and metrics (no query string: it may carry a key). */
  label: string;
  events: ReadonlySet<TrackedEventName>;
  /** Streams with the same encoding share each event's JSON (and so its id). */
  encoding: WebhookEncoding;
  /** The headers that sign one request of `body` (called again for each retry). */
  sign(body: string): Record<string, string>;
}

const TIDINGS_ENCODING: WebhookEncoding = {
  encode: (event, now) => (event.name === 'client_signal' ? undefined : encodeEvent(event, now)),
  body: encodeBatch,
};

/** The same body always gets the same id, so a retried request can be recognised as one. */
export function batchId(body: string): string {
  return `whb_${createHash('sha256').update(body).digest('base64url').slice(0, 22)}`;
}

/** A Tidings endpoint (config/webhooks.ts) as a stream; its queue is named by its URL alone, as before streams. */
export function tidingsStream(endpoint: WebhookEndpoint): WebhookStream {
  return {
    url: endpoint.url,
    queueKey: endpoint.url,
    label: labelOf(endpoint.url),
    events: new Set(endpoint.events),
    encoding: TIDINGS_ENCODING,
    sign: (body) => ({ [ID_HEADER]: batchId(body), [SIGNATURE_HEADER]: signatureHeader(endpoint.secrets, body) }),
  };
}

/** host + path: the query string may carry a key, and has no place in logs. */
export function labelOf(url: string): string {
  const u = new URL(url);
  return `${u.host}${u.pathname}`;
}
