/**
 * The Pusher-protocol apps (docs/pusher-compatibility.md): each has an id (the
 * HTTP API's `/apps/{id}`), a key (the socket's `/app/{key}`) and a secret
 * that signs channel authorizations and API requests. `app` is one more app,
 * the one the TIDINGS_PUSHER_APP_ID/KEY/SECRET variables set.
 */
import { z } from 'zod';

/** Ids and keys name namespaces and URL segments: a short, plain charset. */
const PLAIN = /^[A-Za-z0-9_-]{1,64}$/;
const plain = z.string().regex(PLAIN, 'use 1–64 of A-Z a-z 0-9 _ -');

const appFields = {
  id: plain,
  key: plain,
  /** Signs channel authorizations, sign-ins and API requests (HMAC-SHA256). */
  secret: z.string().min(8, 'must be at least 8 characters'),
};

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
  })
  .strict();
export type PusherAppConfig = z.output<typeof pusherAppSchema>;

/** The app from the environment: all three fields or none. */
const envApp = z
  .object({ id: plain.optional(), key: plain.optional(), secret: appFields.secret.optional() })
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
  .transform(({ apps, app }) => (app ? [...apps, pusherAppSchema.parse(app)] : apps))
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
