/**
 * Configuration schema. Every field has a default, so `{}` is a working
 * single-node gateway; docs/configuration.md describes each field.
 * Durations accept seconds (number) or strings like "500ms", "10s", "10m", "1h".
 */
import { z } from 'zod';
import { duration } from './duration.js';
import { limitsSchema } from './limits.js';
import { REDIS_TOPOLOGY_DEFAULTS, redisTopologySchema } from './redis.js';
import { webhooksSchema } from './webhooks.js';
import { hooksSchema } from './hooks.js';
import { flowFields } from './flow.js';
import { ADMIN_DEFAULTS, adminSchema } from './admin.js';
import { pusherSchema } from './pusher.js';

/** 256 MiB, the memory engine's own default (engine/broker-memory-arena.ts). */
const DEFAULT_HISTORY_RESERVE = 268_435_456;

export { parseDuration } from './duration.js';

const historySchema = z
  .object({
    size: z.number().int().min(0).max(1_000_000),
    ttl: duration,
  })
  .strict();

export const namespaceSchema = z
  .object({
    /** Who may subscribe: any authenticated user, only channels granted by the token's `channels` claim, or nobody. */
    subscribe: z.enum(['authenticated', 'claims', 'none']).default('authenticated'),
    /** Who may publish from a client connection (the HTTP API always may). */
    publish: z.enum(['none', 'subscribers', 'authenticated']).default('none'),
    /** Publications kept for recovery; `false` or size 0 turns history (and so recovery) off. */
    history: z.union([historySchema, z.literal(false)]).default({ size: 1000, ttl: 600_000 }),
    /** Keep a presence set of subscribers. */
    presence: z.boolean().default(false),
    /** Push join/leave events to subscribers (needs presence). */
    joinLeave: z.boolean().default(false),
    /** Subscribers may send ephemeral signals (typing, "looking at this"): never stored, not recovered. */
    signals: z.boolean().default(false),
    ...flowFields,
  })
  .strict();
export type NamespaceConfig = z.output<typeof namespaceSchema>;

const tokenSchema = z
  .object({
    /** HS256/384/512 shared secret (at least 32 characters). */
    hmacSecret: z.string().min(32, 'must be at least 32 characters').optional(),
    /** PEM public key (SPKI) for RS*, PS* or ES* tokens. */
    publicKey: z.string().optional(),
    /** JWKS URL to fetch public keys from. */
    jwksUrl: z.string().url().optional(),
    /** Algorithms accepted; anything else is refused (RFC 8725 §3.1). */
    algorithms: z
      .array(z.enum(['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']))
      .min(1)
      .optional(),
    audience: z.string().optional(),
    issuer: z.string().optional(),
    /** Clock leeway for exp/nbf. */
    leeway: duration.default(30_000),
  })
  .strict();

const clientSchema = z
  .object({
    pingInterval: duration.default(25_000),
    pongTimeout: duration.default(10_000),
    /** Time allowed between the socket opening and the `connect` command. */
    connectTimeout: duration.default(10_000),
    /** Bytes waiting to be written to one connection before it is cut as slow (3008). */
    queueMaxBytes: z.number().int().min(1024).default(1_048_576),
    /** Largest frame a client may send. */
    maxMessageBytes: z.number().int().min(256).max(16 * 1_048_576).default(65_536),
    /** Subscriptions per connection. */
    channelLimit: z.number().int().min(1).default(128),
    /** Connections per user on this node (0: no limit). */
    userConnectionLimit: z.number().int().min(0).default(0),
    /** Commands per second per connection (token bucket), and the burst allowed. */
    commandRate: z.number().min(1).default(100),
    commandBurst: z.number().int().min(1).default(200),
    /** Publications replayed at most on recovery; a larger gap answers `recovered: false`. */
    recoveryMaxPublications: z.number().int().min(0).default(10_000),
    /** Allowed `Origin` values (exact). Empty: any origin (tokens travel in frames, not cookies). */
    allowedOrigins: z.array(z.string()).default([]),
    /** Subscribe each user's connections to the personal channel `#<user>`. */
    personalChannel: z.boolean().default(true),
  })
  .strict();

export const configSchema = z
  .object({
    host: z.string().default('0.0.0.0'),
    port: z.number().int().min(0).max(65535).default(7070),
    /** Listen backlog (pending connections); the kernel caps it at net.core.somaxconn. */
    backlog: z.number().int().min(1).default(4096),
    /** Key for the HTTP API (`Authorization: apikey <key>`), at least 16 characters. */
    apiKey: z.string().min(16, 'must be at least 16 characters').optional(),
    token: tokenSchema.default({ leeway: 30_000 }),
    client: clientSchema.default(clientSchema.parse({})),
    /** Where channels, history and presence live: this process, or Redis shared by several nodes. */
    engine: z
      .object({
        type: z.enum(['memory', 'redis']).default('memory'),
        redisUrl: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').default('redis://127.0.0.1:6379'),
        /** Key prefix, so several deployments can share one Redis. */
        prefix: z.string().default('tidings:'),
        /** Presence entries of a node that stops refreshing them disappear after this. */
        presenceTtl: duration.default(30_000),
        /** Memory engine: history memory is reserved in steps of this size (address space; resident only once used). */
        historyReserveBytes: z.number().int().min(1_048_576).max(1_073_741_824).default(DEFAULT_HISTORY_RESERVE),
        redis: redisTopologySchema(duration).default(REDIS_TOPOLOGY_DEFAULTS),
      })
      .strict()
      .default({ type: 'memory', redisUrl: 'redis://127.0.0.1:6379', prefix: 'tidings:', presenceTtl: 30_000, historyReserveBytes: DEFAULT_HISTORY_RESERVE, redis: REDIS_TOPOLOGY_DEFAULTS }),
    /** Refuse channels whose namespace is not listed (otherwise they follow the "" namespace's rules). */
    strictNamespaces: z.boolean().default(false),
    /** Channel rules by namespace; `""` is channels without a `ns:` prefix. */
    namespaces: z.record(z.string().regex(/^[A-Za-z0-9_.\-]*$/, 'namespace names use A-Z a-z 0-9 _ . -'), namespaceSchema).default({}),
    api: z
      .object({
        maxBodyBytes: z.number().int().min(1024).default(1_048_576),
        /** Parse and answer plain API requests in the gateway's own HTTP fast lane instead of node:http (docs/api.md). */
        fastLane: z.boolean().default(true),
      })
      .strict()
      .default({ maxBodyBytes: 1_048_576, fastLane: true }),
    /** The SSE transport: GET /sse and POST /sse/command. */
    sse: z
      .object({
        /** A comment line this often keeps proxies from closing an idle stream. */
        heartbeat: duration.refine((ms) => ms >= 100, 'must be at least 100ms').default(15_000),
        /** The reconnect delay an EventSource is told (`retry:`). */
        retry: duration.default(3_000),
        /** Take the connect token from this cookie when the connect params carry none. */
        tokenCookie: z.string().regex(/^[A-Za-z0-9_.\-]{1,64}$/, 'cookie names use A-Z a-z 0-9 _ . -').optional(),
      })
      .strict()
      .default({ heartbeat: 15_000, retry: 3_000 }),
    signals: z
      .object({
        /** Signals per second per connection (token bucket, on top of the command rate), and the burst allowed. */
        rate: z.number().min(0.1).default(10),
        burst: z.number().int().min(1).default(20),
        /** A keyed signal lasts this long unless sent again… */
        defaultTtl: duration.default(5_000),
        /** …and never longer than this. */
        maxTtl: duration.default(30_000),
        /** Keyed signals one connection may hold at once (error 106 beyond). */
        maxKeys: z.number().int().min(1).max(1024).default(16),
      })
      .strict()
      .default({ rate: 10, burst: 20, defaultTtl: 5_000, maxTtl: 30_000, maxKeys: 16 }),
    rpc: z
      .object({
        /** RPC calls one connection may have running at once (error 106 beyond). */
        maxInFlight: z.number().int().min(1).default(64),
        /** Methods without a local handler go to this HTTP backend (streamed NDJSON answer). */
        proxy: z
          .object({
            url: z.string().regex(/^https?:\/\/\S+$/, 'must be an http:// or https:// URL'),
            timeout: duration.default(30_000),
            methods: z.array(z.string().regex(/^[A-Za-z0-9_.:\-/]{1,128}$/, 'invalid method name')).optional(),
            headers: z.record(z.string(), z.string()).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({ maxInFlight: 64 }),
    /** Proxy hooks to the app's backend: connect, subscribe, publish, refresh (config/hooks.ts). */
    hooks: hooksSchema,
    /** Idempotency keys of API publishes are remembered this long per channel. */
    idempotencyWindow: duration.default(300_000),
    /** Graceful shutdown: disconnect clients in batches, then exit within this time. */
    shutdown: z
      .object({ timeout: duration.default(30_000), batchSize: z.number().int().min(1).default(500) })
      .strict()
      .default({ timeout: 30_000, batchSize: 500 }),
    /** The page at GET / (for a person who opens the node's address in a browser). */
    landing: z
      .object({
        /** Where the documentation lives for your users; the page links it. */
        docsUrl: z.string().url().optional(),
        /** More links on the page: an admin page, a showcase, your own docs. */
        links: z.array(z.object({ label: z.string().min(1).max(100), href: z.string().min(1).max(2000), note: z.string().max(200).optional() }).strict()).default([]),
        /** Show the development-secrets notice (set by the loader when it generated them). */
        devNotice: z.boolean().default(false),
      })
      .strict()
      .default({ links: [], devNotice: false }),
    webhooks: webhooksSchema.default(webhooksSchema.parse({})),
    admin: adminSchema.default(ADMIN_DEFAULTS),
    /** Apps speaking the Pusher protocol (config/pusher.ts, docs/pusher-compatibility.md). */
    pusher: pusherSchema,
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .default({ level: 'info' }),
    limits: limitsSchema.default(limitsSchema.parse({})),
  })
  .strict();

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema> & { apiKey: string };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Validate a raw config; the error names every wrong field by its path, and
 * by where its value came from when `sources` knows (`port (from TIDINGS_PORT)`).
 */
export function parseConfig(raw: unknown, sources?: ReadonlyMap<string, string>): z.output<typeof configSchema> {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => {
    const path = i.path.join('.');
    const source = sourceOf(path, sources);
    return `  ${path || '(root)'}${source ? ` (from ${source})` : ''}: ${i.message}`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

/** The source of a path or of its nearest parent that has one. */
function sourceOf(path: string, sources: ReadonlyMap<string, string> | undefined): string | undefined {
  if (!sources) return undefined;
  for (let p = path; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const s = sources.get(p);
    if (s) return s;
  }
  return undefined;
}
