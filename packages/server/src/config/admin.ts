/**
 * The admin dashboard at /admin (docs/admin.md). Off until `secret` is set;
 * every other field has a default.
 */
import { z } from 'zod';
import { duration } from './duration.js';

/** Shortest admin secret accepted: it is the only thing between the internet and "disconnect any user". */
export const ADMIN_SECRET_MIN = 24;

export const adminSchema = z
  .object({
    /** The password of the dashboard, and the key its cookies and connection tokens are signed with. Unset: /admin is off. */
    secret: z.string().min(ADMIN_SECRET_MIN, `must be at least ${ADMIN_SECRET_MIN} characters`).optional(),
    /** How long a login lasts. */
    sessionTtl: duration.default(8 * 3_600_000),
    /** Lifetime of the connection token the page uses for its live numbers (it fetches a new one on every reconnect). */
    tokenTtl: duration.refine((ms) => ms >= 10_000, 'must be at least 10s').default(60_000),
    /** Each node publishes its numbers this often. */
    statsInterval: duration.refine((ms) => ms >= 250, 'must be at least 250ms').default(1_000),
    /** Busiest channels each node reports (counted with a bounded top-K table). */
    topChannels: z.number().int().min(1).max(100).default(10),
    /** Login attempts per source address per `loginWindow`; beyond, 429. */
    loginAttempts: z.number().int().min(1).default(10),
    loginWindow: duration.default(60_000),
    /** `auto`: the cookie is `Secure` when the request came over https (or `X-Forwarded-Proto: https`). */
    secureCookie: z.enum(['auto', 'always', 'never']).default('auto'),
    /** Folder of the built dashboard; by default packages/admin/dist next to the server package. */
    assetsDir: z.string().optional(),
  })
  .strict();

export type AdminConfig = z.output<typeof adminSchema>;

export const ADMIN_DEFAULTS: AdminConfig = adminSchema.parse({});
