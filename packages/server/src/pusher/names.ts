/**
 * Pusher names and their Tidings counterparts (docs/pusher-compatibility.md,
 * "Channel mapping"). Pusher channel `<name>` of app `<id>` is the Tidings
 * channel `pusher.<id><kind>:<name>`, with `;` (legal in Pusher, not in
 * Tidings) written `/` (legal in Tidings, not in Pusher), so the mapping is
 * one-to-one both ways. `<kind>` is empty for public channels, `.private`
 * for `private-` and `private-encrypted-`, `.presence` for `presence-`: each
 * kind is its own namespace with its own rules. A signed-in user's
 * `#server-to-user-<id>` is that user's Tidings personal channel.
 * Socket ids are session ids written the Pusher way (two decimal numbers).
 */
import type { PusherAppConfig } from '../config/pusher.js';
import { type NamespaceConfig, namespaceSchema } from '../config/schema.js';
import { personalChannel } from '../channels/policy.js';

export const PUSHER_CHANNEL_RE = /^[A-Za-z0-9_\-=@,.;]{1,164}$/;
export const SERVER_TO_USER = '#server-to-user-';

export type ChannelKind = 'public' | 'private' | 'encrypted' | 'presence' | 'user';

export function channelKind(name: string): ChannelKind {
  if (name.startsWith('private-encrypted-')) return 'encrypted';
  if (name.startsWith('private-')) return 'private';
  if (name.startsWith('presence-')) return 'presence';
  if (name.startsWith(SERVER_TO_USER)) return 'user';
  return 'public';
}

/** Whether `name` is a channel a Pusher client or API may name (the user channel is checked by its owner). */
export function isPusherChannel(name: unknown): name is string {
  if (typeof name !== 'string') return false;
  return PUSHER_CHANNEL_RE.test(name) || (name.startsWith(SERVER_TO_USER) && name.length <= 200);
}

const SUFFIX: Record<Exclude<ChannelKind, 'user'>, string> = { public: '', private: '.private', encrypted: '.private', presence: '.presence' };

export function namespaceOf(appId: string, kind: Exclude<ChannelKind, 'user'>): string {
  return `pusher.${appId}${SUFFIX[kind]}`;
}

/** The Tidings channel of Pusher channel `name` (checked with isPusherChannel), or undefined for a user with no personal channel. */
export function toTidings(appId: string, name: string): string | undefined {
  const kind = channelKind(name);
  if (kind === 'user') return personalChannel(name.slice(SERVER_TO_USER.length));
  return `${namespaceOf(appId, kind)}:${name.replaceAll(';', '/')}`;
}

/** The Pusher name of a Tidings channel of app `appId`, or undefined when it is not one of the app's. */
export function toPusher(appId: string, channel: string): string | undefined {
  const colon = channel.indexOf(':');
  if (colon < 0) return undefined;
  const ns = channel.slice(0, colon);
  const name = channel.slice(colon + 1).replaceAll('/', ';');
  const kind = channelKind(name);
  if (kind === 'user' || namespaceOf(appId, kind) !== ns) return undefined;
  return name;
}

/**
 * The rules of an app's namespaces. Public channels are open to any
 * connection (as in Pusher); private ones only by a signature, or to a
 * native client whose token grants them; presence adds presence and
 * join/leave. Client events are signals. An operator's own config for a
 * namespace of the same name wins.
 */
export function appNamespaces(appId: string): Record<string, NamespaceConfig> {
  const history = { size: 100, ttl: 300_000 };
  const base: NamespaceConfig = namespaceSchema.parse({ subscribe: 'authenticated', publish: 'none', history, presence: false, joinLeave: false, signals: false });
  return {
    [namespaceOf(appId, 'public')]: base,
    [namespaceOf(appId, 'private')]: { ...base, subscribe: 'claims', signals: true },
    [namespaceOf(appId, 'presence')]: { ...base, subscribe: 'claims', signals: true, presence: true, joinLeave: true },
  };
}

/** The namespaces of every configured app. */
export function pusherNamespaces(apps: readonly PusherAppConfig[]): Record<string, NamespaceConfig> {
  return Object.assign({}, ...apps.map((a) => appNamespaces(a.id))) as Record<string, NamespaceConfig>;
}

// ------------------------------------------------------------ socket ids

/** A session id is 9 random bytes (base64url, session.ts): a socket id writes their 72 bits as two 36-bit numbers. */
const BITS = 36n;
const MASK = (1n << BITS) - 1n;
const SOCKET_ID_RE = /^(\d{1,11})\.(\d{1,11})$/;

export function socketIdOf(sessionId: string): string {
  const n = BigInt(`0x${Buffer.from(sessionId, 'base64url').toString('hex') || '0'}`);
  return `${n >> BITS}.${n & MASK}`;
}

/** The session id a socket id stands for, or undefined when it is not one this server gives out. */
export function sessionIdOf(socketId: string): string | undefined {
  const m = SOCKET_ID_RE.exec(socketId);
  if (!m) return undefined;
  const hi = BigInt(m[1]!);
  const lo = BigInt(m[2]!);
  if (hi > MASK || lo > MASK) return undefined;
  const hex = ((hi << BITS) | lo).toString(16).padStart(18, '0');
  return Buffer.from(hex, 'hex').toString('base64url');
}
