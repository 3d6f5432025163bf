/**
 * The `webhooks` section: where the gateway POSTs channel and connection
 * events, how it batches, signs and retries them, and how big the outbox
 * may grow. docs/configuration.md and docs/webhooks.md describe each field.
 */
import { z } from 'zod';
import { duration } from './duration.js';

/** Every event a webhook endpoint can receive. */
export const WEBHOOK_EVENTS = [
  'channel_occupied',
  'channel_vacated',
  'member_added',
  'member_removed',
  'client_publication',
  'user_connected',
  'user_disconnected',
] as const;
export type WebhookEventName = (typeof WEBHOOK_EVENTS)[number];

export const webhookUrl = z.string().regex(/^https?:\/\/\S+$/, 'must be an http:// or https:// URL');
const url = webhookUrl;
const secret = z.string().min(16, 'must be at least 16 characters');

const endpointSchema = z
  .object({
    url,
    /** Signs every request (HMAC-SHA256); the receiver checks it with the same secret. A list while rotating: one signature per secret. */
    secret: z.union([secret, z.array(secret).min(1).max(4)]),
    /** Events sent to this endpoint (default: all). */
    events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).default([...WEBHOOK_EVENTS]),
  })
  .strict();
/** An endpoint as the sender uses it: every secret it signs with, the current one first. */
export type WebhookEndpoint = Omit<z.output<typeof endpointSchema>, 'secret'> & { secrets: string[] };

export const webhooksSchema = z
  .object({
    /** One endpoint, shorthand for `endpoints` (TIDINGS_WEBHOOK_URL). */
    url: url.optional(),
    /** Its secret (TIDINGS_WEBHOOK_SECRET). */
    secret: secret.optional(),
    endpoints: z
      .array(endpointSchema)
      .max(16)
      .refine((list) => new Set(list.map((e) => e.url)).size === list.length, 'each endpoint URL once (its URL names its outbox)')
      .default([]),
    /** Events per request at most… */
    batchMaxEvents: z.number().int().min(1).max(1000).default(100),
    /** …and how long the first event of a batch may wait for others. */
    batchMaxWait: duration.default(200),
    /** A request without an answer in this time failed. */
    timeout: duration.refine((ms) => ms >= 100, 'must be at least 100ms').default(10_000),
    /** Retry delays double from retryMinDelay up to retryMaxDelay, each with random jitter; retries never stop. */
    retryMinDelay: duration.refine((ms) => ms >= 10, 'must be at least 10ms').default(1_000),
    retryMaxDelay: duration.default(60_000),
    /** Events waiting per endpoint at most; beyond, the oldest are dropped (warn log, metric). */
    outboxMaxEvents: z.number().int().min(1).max(10_000_000).default(100_000),
    /** One node delivers an endpoint's events at a time; its lease lasts this long unless renewed (longer than timeout + batchMaxWait). */
    lease: duration.refine((ms) => ms >= 500, 'must be at least 500ms').default(15_000),
  })
  .strict()
  .refine((w) => (w.url === undefined) === (w.secret === undefined), { message: 'url and secret go together', path: ['secret'] })
  .refine((w) => w.url === undefined || w.endpoints.every((e) => e.url !== w.url), { message: 'is also listed in endpoints', path: ['url'] })
  .refine((w) => w.retryMaxDelay >= w.retryMinDelay, { message: 'must not be below retryMinDelay', path: ['retryMaxDelay'] })
  // The lease is renewed before each batch: it must outlast a batch's wait and its request.
  .refine((w) => w.lease > w.timeout + w.batchMaxWait, { message: 'must be longer than timeout + batchMaxWait', path: ['lease'] });

export type WebhooksConfig = z.output<typeof webhooksSchema>;


/** Every endpoint, the `url`/`secret` shorthand first. */
export function webhookEndpoints(w: WebhooksConfig): WebhookEndpoint[] {
  const one = w.url !== undefined && w.secret !== undefined ? [{ url: w.url, secrets: [w.secret], events: [...WEBHOOK_EVENTS] }] : [];
  const listed = w.endpoints.map(({ secret, ...e }) => ({ ...e, secrets: typeof secret === 'string' ? [secret] : secret }));
  return [...one, ...listed];
}
