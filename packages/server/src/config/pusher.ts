/**
 * The Pusher-protocol apps (docs/pusher-compatibility.md): each has an id (the
 * HTTP API's `/apps/{id}`), a key (the socket's `/app/{key}`) and a secret
 * that signs channel authorizations and API requests, and may have webhooks
 * in Pusher's format. `app` is one more app, the one the
 * TIDINGS_PUSHER_APP_ID/KEY/SECRET (and _WEBHOOK_URL) variables set.
 */
import { z } from 'zod';
import { webhookUrl } from './webhooks.js';

/** Ids and keys name namespaces and URL segments: a short, plain charset. */
const PLAIN = /^[A-Za-z0-9_-]{1,64}$/;
const plain = z.string().regex(PLAIN, 'use 1–64 of A-Z a-z 0-9 _ -');

const appFields = {
  id: plain,
  key: plain,
  /** Signs channel authorizations, sign-ins and API requests (HMAC-SHA256). */
  secret: z.string().min(8, 'must be at least 8 characters'),
};

/** The events of Pusher Channels' webhooks. */
export const PUSHER_WEBHOOK_EVENTS = ['channel_occupied', 'channel_vacated', 'member_added', 'member_removed', 'client_event'] as const;
export type PusherWebhookEventName = (typeof PUSHER_WEBHOOK_EVENTS)[number];

/** Where the app's webhooks go; signed with the app's key and secret, delivered as the `webhooks` section says. */
const pusherWebhookSchema = z
  .object({
    url: webhookUrl,
    /** Events sent to this URL (default: all). */
    events: z.array(z.enum(PUSHER_WEBHOOK_EVENTS)).min(1).default([...PUSHER_WEBHOOK_EVENTS]),
  })
  .strict();

export const pusherAppSchema = z
  .object({
    ...appFields,
    /** Clients may send `client-` events on private and presence channels. */
    clientEvents: z.boolean().default(true),
    /** Connections of this app on one node (0: no limit); past it a socket is closed with 4004. */
    maxConnections: z.number().int().min(0).default(0),
    /** Distinct users on one presence channel; past it a subscription is refused. */
    maxPresenceMembers: z.number().int().min(1).max(10_000).default(100),
    /** Largest `data` of one event (API trigger or client event), in bytes. */
    maxEventBytes: z.number().int().min(64).max(1_048_576).default(10_240),
    /** Allowed `Origin` values for this app's sockets (exact). Empty: any origin. */
    allowedOrigins: z.array(z.string()).default([]),
    /** Pusher-format webhooks (docs/pusher-compatibility.md, "Webhooks"). */
    webhooks: z
      .array(pusherWebhookSchema)
      .max(4)
      .refine((list) => new Set(list.map((w) => w.url)).size === list.length, 'each webhook URL once')
      .default([]),
  })
  .strict();
export type PusherAppConfig = z.output<typeof pusherAppSchema>;

/** The app from the environment: all three fields or none, and maybe a webhook URL. */
const envApp = z
  .object({ id: plain.optional(), key: plain.optional(), secret: appFields.secret.optional(), webhookUrl: webhookUrl.optional() })
  .strict()
  .refine((a) => a.id !== undefined && a.key !== undefined && a.secret !== undefined, {
    message: 'TIDINGS_PUSHER_APP_ID, TIDINGS_PUSHER_KEY and TIDINGS_PUSHER_SECRET go together',
  });

export const pusherSchema = z
  .object({
    apps: z.array(pusherAppSchema).max(1000).default([]),
    app: envApp.optional(),
  })
  .strict()
  .transform(({ apps, app }) => (app ? [...apps, fromEnv(app)] : apps))
  .superRefine((apps, ctx) => {
    for (const field of ['id', 'key'] as const) {
      const seen = new Set<string>();
      for (const a of apps) {
        if (seen.has(a[field])) ctx.addIssue({ code: 'custom', message: `two apps have the ${field} ${JSON.stringify(a[field])}` });
        seen.add(a[field]);
      }
    }
  })
  .transform((apps) => ({ apps }))
  .default({ apps: [] });

/** The environment's app, its webhook URL as its one webhook. */
function fromEnv({ webhookUrl: url, ...app }: z.output<typeof envApp>): PusherAppConfig {
  return pusherAppSchema.parse({ ...app, webhooks: url === undefined ? [] : [{ url }] });
}
