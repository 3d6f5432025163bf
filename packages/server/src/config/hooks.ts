/**
 * Proxy hooks: the app's HTTP backend decides connects, subscribes and
 * client publications, and extends sessions (docs/backends.md). Each hook is
 * off until it has a `url`; `namespaces` overrides subscribe/publish per
 * namespace (`false` turns a hook off there).
 */
import { z } from 'zod';
import { duration } from './duration.js';

const url = z.string().regex(/^https?:\/\/\S+$/, 'must be an http:// or https:// URL');
const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/, 'not an HTTP header name');
const cookieName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/, 'not a cookie name');

/** What every hook shares: where it goes and how it fails. */
const callFields = {
  url,
  /** ms for one attempt, request to last byte of the answer. */
  timeout: duration.default(5_000),
  /** More attempts after a timeout, a network error or an HTTP 5xx/429 (never after an answer). */
  retries: z.number().int().min(0).max(5).default(1),
  /** First retry waits about this long (jittered), each next one twice as long. */
  retryBackoff: duration.default(100),
};
/**
 * What a failed call (timeout, unreachable, bad answer) means: `closed` refuses
 * with error 116, `open` goes on as if the hook had said yes (data unchanged).
 */
const failMode = z.enum(['closed', 'open']).default('closed');

/** Verdicts are remembered for `cacheTtl` (0: every call goes to the backend). */
const cacheTtl = duration.default(0);
const subscribeHook = z.object({ ...callFields, failMode, cacheTtl }).strict();
/** The publish hook is never cached: each publication is new data. */
const publishHook = z.object({ ...callFields, failMode }).strict();
/** Connect and refresh have no user to let in on failure, so they always fail closed. */
const connectHook = z.object({ ...callFields, cacheTtl }).strict();
const refreshHook = z.object({ ...callFields, cacheTtl }).strict();

const callOnly = z.object(callFields);
/** Where a hook goes, how long it may take, how often it is retried. */
export type HookCallConfig = z.output<typeof callOnly>;
export type ConnectHookConfig = z.output<typeof connectHook>;
export type SubscribeHookConfig = z.output<typeof subscribeHook>;
export type PublishHookConfig = z.output<typeof publishHook>;

const namespaceHooks = z
  .object({
    subscribe: z.union([subscribeHook, z.literal(false)]).optional(),
    publish: z.union([publishHook, z.literal(false)]).optional(),
  })
  .strict();
export type NamespaceHooksConfig = z.output<typeof namespaceHooks>;

const hooksObject = z
  .object({
    /** HMAC-SHA256 key that signs every hook request (Tidings-Signature, as webhooks are). Needed once any hook is on. */
    secret: z.string().min(32, 'must be at least 32 characters').optional(),
    /** Static headers sent with every hook request, e.g. a key the backend checks too. */
    headers: z.record(headerName, z.string().max(4096).regex(/^[\t\x20-\x7e]*$/, 'header values are printable ASCII')).default({}),
    /** Request headers of the client's connection passed to the connect hook (names, any case). */
    forwardHeaders: z.array(headerName).max(32).default([]),
    /** Cookies of the client's connection passed to the connect hook (by name). */
    forwardCookies: z.array(cookieName).max(32).default([]),
    /** Hook requests in flight at once on this node; beyond, calls wait in a queue… */
    maxConcurrency: z.number().int().min(1).max(10_000).default(64),
    /** …of at most this many; a call that finds it full fails at once (fail mode applies). */
    maxQueue: z.number().int().min(0).max(1_000_000).default(1_000),
    /** Publications one connection may have waiting for the publish hook at once (error 111 beyond). */
    maxPublishesPerConnection: z.number().int().min(1).max(10_000).default(16),
    /** Verdicts remembered at most, all hooks together (the oldest go first). */
    cacheMaxEntries: z.number().int().min(0).max(1_000_000).default(10_000),
    connect: connectHook.optional(),
    subscribe: subscribeHook.optional(),
    publish: publishHook.optional(),
    refresh: refreshHook.optional(),
    /** Per-namespace subscribe/publish hooks, replacing the global ones there; `""` is channels without a prefix. */
    namespaces: z.record(z.string().regex(/^[A-Za-z0-9_.\-]*$/, 'namespace names use A-Z a-z 0-9 _ . -'), namespaceHooks).default({}),
  })
  .strict();

function anyHookOn(h: z.output<typeof hooksObject>): boolean {
  if (h.connect || h.subscribe || h.publish || h.refresh) return true;
  return Object.values(h.namespaces).some((n) => Boolean(n.subscribe || n.publish));
}

const checked = hooksObject.refine((h) => !anyHookOn(h) || h.secret !== undefined, {
  message: 'a hook is configured: set hooks.secret (at least 32 characters) so the backend can verify requests',
  path: ['secret'],
});

export const hooksSchema = checked.default(checked.parse({}));
export type HooksConfig = z.output<typeof hooksSchema>;
