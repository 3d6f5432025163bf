/**
 * Channel rules. A channel is `namespace:name` (or just `name`, in the default
 * namespace ""). A `#` in the name makes it user-limited: `user:#42` or
 * `dm:#42,43` may be joined only by the users listed after the `#`.
 *
 * Subscribe permission, first match wins (docs/configuration.md):
 *   1. unknown namespace (with strictNamespaces) → 102 unknown channel
 *   2. user-limited channel → allowed iff the user is listed, else 103
 *   3. channel granted by the token's `channels` claim → allowed
 *   4. namespace `subscribe: authenticated` → allowed; `claims` or `none` → 103
 * Before all of these, the reserved namespace `_tidings` (the gateway's own
 * channels, such as the admin dashboard's stats) is open to admin connections
 * only, and no client may publish to it; the HTTP API does not know it.
 */
import { ErrorCode, channelUserId } from '@tidings/protocol';
import type { NamespaceConfig } from '../config/schema.js';
import type { HistoryPolicy, PublishOptions } from '../engine/broker.js';

export interface ChannelRules {
  namespace: string;
  config: NamespaceConfig;
  history: HistoryPolicy;
  /** `{history}`, made once: what an API publish without idempotency key passes to the engine. */
  publishOptions: Readonly<PublishOptions>;
}

export interface Identity {
  user: string;
  /** Channels the token grants (exact names, or prefixes ending in `*`). */
  channels: readonly string[];
  /** An admin dashboard connection (auth/admin-token.ts). */
  admin?: boolean;
}

/** Channels of the gateway itself: `_tidings:<name>`. */
export const RESERVED_NAMESPACE = '_tidings';
const RESERVED_PREFIX = `${RESERVED_NAMESPACE}:`;

export function isReserved(channel: string): boolean {
  return channel.startsWith(RESERVED_PREFIX);
}

export type Verdict = { ok: true; rules: ChannelRules } | { ok: false; code: number; message: string };

const DEFAULT_NAMESPACE: NamespaceConfig = {
  subscribe: 'authenticated',
  publish: 'none',
  history: { size: 1000, ttl: 600_000 },
  presence: false,
  joinLeave: false,
  signals: false,
  conflate: 0,
};

function toRules(namespace: string, config: NamespaceConfig): ChannelRules {
  const history = config.history === false ? { size: 0, ttlMs: 0 } : { size: config.history.size, ttlMs: config.history.ttl };
  return { namespace, config, history, publishOptions: { history } };
}

/** Users a `#` channel is limited to, or undefined when it is not user-limited. */
export function limitedUsers(channel: string): string[] | undefined {
  const hash = channel.indexOf('#');
  if (hash < 0) return undefined;
  return channel.slice(hash + 1).split(',');
}

/** The personal channel of `user` (@tidings/protocol users.ts): one rule for the gateway, the SDKs and the docs. */
export { personalChannelOf as personalChannel } from '@tidings/protocol';

/** Whether `who` is among the users a `#` channel lists (compared in their channel-name form, so `x` is never `x,y`). */
function listed(users: string[], who: Identity): boolean {
  const form = channelUserId(who.user);
  return form !== undefined && users.includes(form);
}

function grantedByClaims(channel: string, granted: readonly string[]): boolean {
  for (const g of granted) {
    if (g === channel) return true;
    if (g.endsWith('*') && channel.startsWith(g.slice(0, -1))) return true;
  }
  return false;
}

export class ChannelPolicy {
  private readonly rules = new Map<string, ChannelRules>();
  private readonly fallback: ChannelRules;
  /** What admin connections get on reserved channels: no history, no presence. */
  private readonly reserved = toRules(RESERVED_NAMESPACE, { ...DEFAULT_NAMESPACE, history: false });

  constructor(
    namespaces: Record<string, NamespaceConfig>,
    /** Refuse channels whose namespace is not configured (otherwise they follow the default namespace). */
    private readonly strict = false,
  ) {
    for (const [name, config] of Object.entries(namespaces)) this.rules.set(name, toRules(name, config));
    this.fallback = this.rules.get('') ?? toRules('', DEFAULT_NAMESPACE);
  }

  /** Rules for a (validly named) channel, or undefined when its namespace is unknown. */
  rulesFor(channel: string): ChannelRules | undefined {
    if (isReserved(channel)) return undefined;
    const colon = channel.indexOf(':');
    const ns = colon < 0 ? '' : channel.slice(0, colon);
    const rules = this.rules.get(ns);
    if (rules) return rules;
    return this.strict && ns !== '' ? undefined : this.fallback;
  }

  canSubscribe(channel: string, who: Identity): Verdict {
    if (isReserved(channel)) return who.admin === true ? { ok: true, rules: this.reserved } : this.denied(channel);
    const rules = this.rulesFor(channel);
    if (!rules) return { ok: false, code: ErrorCode.UnknownChannel, message: `unknown namespace in ${channel}` };
    const users = limitedUsers(channel);
    if (users) {
      return listed(users, who) ? { ok: true, rules } : this.denied(channel);
    }
    if (grantedByClaims(channel, who.channels)) return { ok: true, rules };
    return rules.config.subscribe === 'authenticated' ? { ok: true, rules } : this.denied(channel);
  }

  /** Client publish: the namespace must allow it, and user-limited channels stay limited. */
  canPublish(channel: string, who: Identity, subscribed: boolean): Verdict {
    if (isReserved(channel)) return this.denied(channel);
    const rules = this.rulesFor(channel);
    if (!rules) return { ok: false, code: ErrorCode.UnknownChannel, message: `unknown namespace in ${channel}` };
    const users = limitedUsers(channel);
    if (users && !listed(users, who)) return this.denied(channel);
    const mode = rules.config.publish;
    if (mode === 'authenticated' || (mode === 'subscribers' && subscribed)) return { ok: true, rules };
    return this.denied(channel);
  }

  private denied(channel: string): Verdict {
    return { ok: false, code: ErrorCode.PermissionDenied, message: `permission denied for ${channel}` };
  }
}
