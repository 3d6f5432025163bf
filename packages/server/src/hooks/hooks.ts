/**
 * The proxy hooks as the session sees them: ask the app's backend whether a
 * connection may connect, subscribe or publish, and for how long a session
 * lives (docs/backends.md). Each call is signed (signing.ts), bounded and
 * retried (caller.ts), checked (answers.ts), maybe cached (cache.ts) and
 * counted (metrics.ts). A failure becomes error 116 (fail closed) or a yes
 * (`failMode: open`, subscribe and publish only); it never throws.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ErrorCode } from '@tidings/protocol';
import type { Logger } from 'pino';
import type { HookCallConfig, HooksConfig, PublishHookConfig, SubscribeHookConfig } from '../config/hooks.js';
import { type Answer, type ConnectResult, type PublishResult, type RefreshResult, type SubscribeResult, parseAnswer } from './answers.js';
import { VerdictCache } from './cache.js';
import { HookCaller, HookFailure } from './caller.js';
import { type ConnectFacts, connectFacts } from './facts.js';
import { type HookName, HookMetrics } from './metrics.js';

/** A refusal because the call failed, not because the backend said no. */
export type Verdict<T> = Answer<T> | { ok: false; code: number; message: string; failed: true };

/** The connection a hook call is about. */
export interface Caller {
  client: string;
  user: string;
  /** The connection's info (token claim or connect hook). */
  info?: unknown;
}

type Results = { connect: ConnectResult; subscribe: SubscribeResult; publish: PublishResult; refresh: RefreshResult };

/** One warning per hook this often at most, however many calls fail. */
const WARN_EVERY_MS = 5_000;
/** Longer answers are used but not cached, so the cache's memory stays bounded by its entry count. */
const MAX_CACHED_ANSWER_CHARS = 8_192;
/** A WebSocket close reason holds at most 123 bytes. */
const MAX_REASON_BYTES = 123;

/** A backend's message cut to fit a close frame (whole characters only). */
export function asCloseReason(message: string): string {
  let out = '';
  let bytes = 0;
  for (const ch of message) {
    bytes += Buffer.byteLength(ch);
    if (bytes > MAX_REASON_BYTES) break;
    out += ch;
  }
  return out;
}

export class Hooks {
  readonly metrics = new HookMetrics();
  private readonly caller: HookCaller;
  private readonly cache: VerdictCache<Answer<unknown>>;
  private readonly warned = new Map<HookName, number>();

  constructor(
    private readonly cfg: HooksConfig,
    private readonly log: Logger,
  ) {
    this.caller = new HookCaller({ secret: cfg.secret ?? '', headers: cfg.headers, maxConcurrency: cfg.maxConcurrency, maxQueue: cfg.maxQueue });
    this.cache = new VerdictCache(cfg.cacheMaxEntries);
  }

  /** Drops pooled sockets to the backends (the gateway's close). */
  close(): void {
    this.caller.close();
  }

  get connectOn(): boolean {
    return this.cfg.connect !== undefined;
  }

  get refreshOn(): boolean {
    return this.cfg.refresh !== undefined;
  }

  /** What a transport keeps of its HTTP request for the connect hook; nothing when the hook is off. */
  requestFacts(ip: string | undefined, headers: IncomingHttpHeaders): ConnectFacts | undefined {
    return this.cfg.connect ? connectFacts(this.cfg, ip, headers) : undefined;
  }

  /** A client without a token: who is it? */
  connect(client: string, transport: string, facts: ConnectFacts | undefined, data: unknown): Promise<Verdict<ConnectResult>> {
    const f = facts ?? { ip: '', headers: {}, cookies: {} };
    const body = { client, transport, ip: f.ip, headers: f.headers, cookies: f.cookies, ...(data === undefined ? {} : { data }) };
    return this.run('connect', this.cfg.connect!, body, JSON.stringify([f.headers, f.cookies, data ?? null]));
  }

  /** May `who` subscribe to `channel`? Undefined when no subscribe hook covers its namespace. */
  async subscribe(namespace: string, who: Caller, channel: string, data: unknown): Promise<Verdict<SubscribeResult> | undefined> {
    const hook = this.forNamespace(namespace, 'subscribe') as SubscribeHookConfig | undefined;
    if (!hook) return undefined;
    const body = { ...callerFields(who), channel, ...(data === undefined ? {} : { data }) };
    const verdict = await this.run('subscribe', hook, body, JSON.stringify([who.user, channel, data ?? null]));
    return openOnFailure(verdict, hook.failMode, {});
  }

  /** Whether subscribes in `namespace` go through a subscribe hook. */
  subscribesThrough(namespace: string): boolean {
    return this.forNamespace(namespace, 'subscribe') !== undefined;
  }

  /** Whether client publications in `namespace` go through a publish hook. */
  publishesThrough(namespace: string): boolean {
    return this.forNamespace(namespace, 'publish') !== undefined;
  }

  /** May `who` publish `data` on `channel`, and as what? Undefined when no publish hook covers its namespace. */
  async publish(namespace: string, who: Caller, channel: string, data: unknown): Promise<Verdict<PublishResult> | undefined> {
    const hook = this.forNamespace(namespace, 'publish') as PublishHookConfig | undefined;
    if (!hook) return undefined;
    const verdict = await this.run('publish', hook, { ...callerFields(who), channel, data: data ?? null });
    return openOnFailure(verdict, hook.failMode, {});
  }

  /** Extend `who`'s session: for how long? */
  refresh(who: Caller): Promise<Verdict<RefreshResult>> {
    return this.run('refresh', this.cfg.refresh!, callerFields(who), JSON.stringify([who.user]));
  }

  private forNamespace(namespace: string, hook: 'subscribe' | 'publish'): SubscribeHookConfig | PublishHookConfig | undefined {
    const own = this.cfg.namespaces[namespace]?.[hook];
    if (own === false) return undefined;
    return own ?? this.cfg[hook];
  }

  private async run<H extends HookName>(hook: H, cfg: HookCallConfig & { cacheTtl?: number }, body: object, cacheKey?: string): Promise<Verdict<Results[H]>> {
    // Hashed: the question may hold cookies and headers, and the key is all the cache keeps of it.
    const key = cacheKey !== undefined && (cfg.cacheTtl ?? 0) > 0 ? createHash('sha256').update(`${hook}\0${cacheKey}`).digest('base64url') : undefined;
    const hit = key === undefined ? undefined : this.cache.get(key);
    if (hit) {
      this.metrics.cacheHit(hook);
      return hit as Answer<Results[H]>;
    }
    const started = performance.now();
    try {
      const text = await this.caller.post(cfg, hook, JSON.stringify(body), () => this.metrics.retried(hook));
      const answer = parseAnswer(hook, text);
      this.metrics.called(hook, answer.ok ? 'allowed' : 'refused', performance.now() - started);
      if (key !== undefined && text.length <= MAX_CACHED_ANSWER_CHARS) this.cache.set(key, answer, cfg.cacheTtl ?? 0);
      return answer;
    } catch (err) {
      const failure = err instanceof HookFailure ? err : new HookFailure('answer', (err as Error).message);
      this.metrics.called(hook, failure.reason, performance.now() - started);
      this.warn(hook, failure);
      return { ok: false, failed: true, code: ErrorCode.HookFailed, message: `${hook} hook failed: ${failure.message}` };
    }
  }

  private warn(hook: HookName, failure: HookFailure): void {
    const now = Date.now();
    if (now - (this.warned.get(hook) ?? 0) < WARN_EVERY_MS) return;
    this.warned.set(hook, now);
    this.log.warn({ hook, reason: failure.reason, err: failure.message }, 'hook failed (more failures of this hook are not logged for 5 s)');
  }
}

function callerFields(who: Caller): Record<string, unknown> {
  return who.info === undefined ? { client: who.client, user: who.user } : { client: who.client, user: who.user, info: who.info };
}

/** `failMode: open`: a failed call counts as a yes with nothing changed. */
function openOnFailure<T>(verdict: Verdict<T>, mode: 'open' | 'closed', yes: T): Verdict<T> {
  return !verdict.ok && 'failed' in verdict && mode === 'open' ? { ok: true, value: yes } : verdict;
}
