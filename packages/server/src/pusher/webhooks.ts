/**
 * A Pusher app's webhooks (docs/pusher-compatibility.md, "Webhooks"): the
 * node's webhook events on the app's channels, written as Pusher Channels
 * writes them and signed with the app's key and secret. Delivery (outbox,
 * batching, retries, order) is the webhooks machinery's (webhooks/format.ts).
 */
import { createHmac } from 'node:crypto';
import type { PusherAppConfig, PusherWebhookEventName } from '../config/pusher.js';
import type { TrackedEventName, WebhookEvent } from '../webhooks/event.js';
import { type WebhookEncoding, type WebhookStream, labelOf } from '../webhooks/format.js';
import { channelKind, socketIdOf, toPusher } from './names.js';
import { splitEvent } from './translate.js';

/** Pusher's event names, as the tracker knows them: a client event is a signal. */
const TRACKED: Record<PusherWebhookEventName, TrackedEventName> = {
  channel_occupied: 'channel_occupied',
  channel_vacated: 'channel_vacated',
  member_added: 'member_added',
  member_removed: 'member_removed',
  client_event: 'client_signal',
};

/** Every configured Pusher webhook as a stream (none: the node pays nothing for them). */
export function pusherWebhookStreams(apps: readonly PusherAppConfig[]): WebhookStream[] {
  return apps.flatMap((app) => {
    if (app.webhooks.length === 0) return [];
    const encoding = pusherEncoding(app.id);
    return app.webhooks.map(
      (w): WebhookStream => ({
        url: w.url,
        // Its own queue, apart from a Tidings endpoint or another app at the same URL.
        queueKey: `pusher\u0000${app.id}\u0000${w.url}`,
        label: `${labelOf(w.url)} (pusher ${app.id})`,
        events: new Set(w.events.map((e) => TRACKED[e])),
        encoding,
        sign: (body) => ({ 'X-Pusher-Key': app.key, 'X-Pusher-Signature': pusherSignature(app.secret, body) }),
      }),
    );
  });
}

/** Pusher's webhook signature: hex HMAC-SHA256 of the raw body with the app secret. */
export function pusherSignature(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * Queued events carry their `time_ms` (the delivery's batch wait reads it);
 * Pusher's events have none, so the body takes it off and gives the batch
 * one `time_ms`, when it is first sent.
 */
function pusherEncoding(appId: string): WebhookEncoding {
  return {
    encode(event, now) {
      const fields = pusherFields(appId, event);
      return fields && `{"time_ms":${now},${JSON.stringify(fields).slice(1)}`;
    },
    body: (events) => `{"time_ms":${Date.now()},"events":[${events.map((e) => e.replace(QUEUED_TIME, '{')).join(',')}]}`,
  };
}

const QUEUED_TIME = /^\{"time_ms":\d+,/;

/** The event as Pusher writes it, or undefined when its channel is not one of the app's. */
function pusherFields(appId: string, e: WebhookEvent): Record<string, string> | undefined {
  const channel = e.channel === undefined ? undefined : toPusher(appId, e.channel);
  if (channel === undefined) return undefined;
  switch (e.name) {
    case 'channel_occupied':
    case 'channel_vacated':
      return { name: e.name, channel };
    case 'member_added':
    case 'member_removed':
      return e.user === undefined ? undefined : { name: e.name, channel, user_id: e.user };
    case 'client_signal':
      return clientEvent(channel, e);
    default:
      return undefined;
  }
}

/** A signal as Pusher's client_event: the event name and data the socket sent (translate.ts splits them the same way for subscribers). */
function clientEvent(channel: string, e: WebhookEvent): Record<string, string> {
  const { event, data } = splitEvent(JSON.parse(e.data ?? 'null'));
  const fields: Record<string, string> = { name: 'client_event', channel, event, data, socket_id: socketIdOf(e.client ?? '') };
  // Pusher names the sender's user on presence channels only.
  if (channelKind(channel) === 'presence' && e.user) fields.user_id = e.user;
  return fields;
}
