/**
 * One webhook event as it is queued and sent: a JSON object with a unique id
 * (receivers deduplicate on it), its name, when it happened, and what it is
 * about. A client publication's `data` is the JSON text the client sent,
 * spliced in as it is (never parsed again).
 */
import { randomBytes } from 'node:crypto';
import type { WebhookEventName } from '../config/webhooks.js';

export interface WebhookEvent {
  name: WebhookEventName;
  channel?: string;
  user?: string;
  client?: string;
  /** Channel and member events: the occupancy transition's sequence number (engine/occupancy.ts). */
  seq?: number;
  /** JSON text. */
  data?: string;
}

/** A unique id: 16 random bytes, so ids from any node never collide. */
export function eventId(): string {
  return `evt_${randomBytes(16).toString('base64url')}`;
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
