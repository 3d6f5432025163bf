/**
 * One webhook event as it is queued and sent: a JSON object with a unique id
 * (receivers deduplicate on it), its name, when it happened, and what it is
 * about. A client publication's `data` is the JSON text the client sent,
 * spliced in as it is (never parsed again).
 */
import { randomBytes } from 'node:crypto';
import type { WebhookEventName } from '../config/webhooks.js';

/** What the tracker decides: the configurable events, and client signals (the Pusher apps' `client_event`). */
export type TrackedEventName = WebhookEventName | 'client_signal';

export interface WebhookEvent {
  name: TrackedEventName;
  channel?: string;
  user?: string;
  client?: string;
  /** Channel and member events: the occupancy transition's sequence number (engine/occupancy.ts). */
  seq?: number;
  /** JSON text. */
  data?: string;
}

/** 10 random bytes per process, then a counter: unique across nodes and restarts, without a random draw per event. */
const ID_PREFIX = randomBytes(10);
let idCounter = 0;

/** A unique id: `evt_` and 22 base64url characters (the process's random prefix and a 48-bit counter). */
export function eventId(): string {
  const id = Buffer.allocUnsafe(16);
  ID_PREFIX.copy(id, 0);
  id.writeUIntBE(idCounter++ % 2 ** 48, 10, 6);
  return `evt_${id.toString('base64url')}`;
}

/** The event's JSON: `{"id","name","time_ms","channel"?,"user"?,"client"?,"seq"?,"data"?}`. */
export function encodeEvent(e: WebhookEvent, now = Date.now()): string {
  const head = JSON.stringify({ id: eventId(), name: e.name, time_ms: now, channel: e.channel, user: e.user, client: e.client, seq: e.seq });
  return e.data === undefined ? head : `${head.slice(0, -1)},"data":${e.data}}`;
}

/** The request body for a batch of encoded events. */
export function encodeBatch(events: readonly string[]): string {
  return `{"events":[${events.join(',')}]}`;
}
