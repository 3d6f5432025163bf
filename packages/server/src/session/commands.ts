/**
 * Command handlers: each checks permission, talks to the hub or engine, and
 * replies. A thrown ProtocolError (or any error with a 1xx `code`) becomes an
 * error reply with that code; anything else is logged and answered 100.
 */
import {
  type ChannelParams,
  CloseCode,
  type Command,
  type ConnectParams,
  ErrorCode,
  type HistoryParams,
  PROTOCOL_VERSION,
  ProtocolError,
  type PublishParams,
  type SignalParams,
  type StreamPosition,
  type SubscribeParams,
} from '@tidings/protocol';
import { type TokenClaims, TokenError } from '../auth/verifier.js';
import { type ChannelRules, personalChannel } from '../channels/policy.js';
import type { ConnectFacts } from '../hooks/facts.js';
import { type Caller, asCloseReason } from '../hooks/hooks.js';
import { type FlowRequest, flowSettings } from '../hub/flow.js';
import type { Prepared } from '../hub/hub.js';
import { type ConnectReply, encodeConnectResult, encodePubList, encodeSignal, encodeSignalCleared, subscribeResultJson } from '../wire/encode.js';
import type { Session } from './session.js';

type Failure = { channel: string; error: { code: number; message: string } };

export async function runCommand(s: Session, cmd: Command): Promise<void> {
  switch (cmd.method) {
    case 'connect':
      return connect(s, cmd.id, cmd.params);
    case 'subscribe':
      return subscribe(s, cmd.id, cmd.params);
    case 'unsubscribe':
      return unsubscribe(s, cmd.id, cmd.params);
    case 'publish':
      return publish(s, cmd.id, cmd.params);
    case 'presence':
      return presence(s, cmd.id, cmd.params);
    case 'history':
      return history(s, cmd.id, cmd.params);
    case 'refresh':
      return refresh(s, cmd.id, cmd.params.token);
    case 'rpc':
      return s.rpcs.run(cmd.id, cmd.params);
    case 'cancel':
      s.rpcs.cancel(cmd.params.id);
      return s.reply(cmd.id, '{}');
    case 'signal':
      return signal(s, cmd.id, cmd.params);
  }
}

// ------------------------------------------------------------ connect

async function connect(s: Session, id: number, p: ConnectParams): Promise<void> {
  s.state = 'connecting';
  if (p.protocol !== undefined && p.protocol !== PROTOCOL_VERSION) {
    return s.disconnect(CloseCode.UnsupportedProtocol, `protocol ${p.protocol} is not supported`);
  }
  if (!s.ctx.accepting) return s.disconnect(CloseCode.Shutdown, 'shutdown');
  const identity = await identify(s, p);
  if (!identity || s.isClosed) return;
  const { claims } = identity;
  s.user = claims.user;
  s.claims = claims;
  const { userConnectionLimit } = s.ctx.config.client;
  const count = s.ctx.hub.addMember(s);
  if (userConnectionLimit > 0 && count > userConnectionLimit) return s.disconnect(CloseCode.ConnectionLimit, 'connection limit');

  const owed = serverChannels(s, identity);
  const results = await prepareAll(s, p, owed);
  if (s.isClosed) return release(s, results);

  s.markConnected(claims);
  const { pingInterval, pongTimeout } = s.ctx.config.client;
  const reply: ConnectReply = { client: s.id, user: s.user, ping: pingInterval / 1000, pong: pongTimeout / 1000, subs: [], serverSubs: [] };
  // Client subscriptions come first in `results`, then the server's; a failed server subscription is left out of the reply.
  const clientCount = results.length - owed.length;
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    if (!('error' in r)) s.track(r.outcome);
    if (i < clientCount) reply.subs.push('error' in r ? r : r.outcome);
    else if (!('error' in r)) reply.serverSubs.push(r.outcome);
  }
  if (claims.expiresAt !== undefined) reply.ttl = Math.max(0, Math.floor((claims.expiresAt - Date.now()) / 1000));
  if (s.transport.sessionKey !== undefined) reply.session = s.transport.sessionKey;
  s.reply(id, encodeConnectResult(reply));
  for (const r of results) if (!('error' in r)) s.ctx.hub.activate(r);
}

/** The connect's subscriptions, the client's (minus those the server owes anyway) then the server's, in that order. */
function prepareAll(s: Session, p: ConnectParams, owed: readonly string[]): Promise<Array<Prepared | Failure>> {
  const pending: Array<Promise<Prepared | Failure>> = [];
  for (const sub of p.subs ?? []) if (!owed.includes(sub.channel)) pending.push(tryPrepare(s, sub.channel, sub.since, false, sub));
  for (const channel of owed) pending.push(tryPrepare(s, channel, p.serverSubs?.[channel], true));
  return Promise.all(pending);
}

interface Identity {
  claims: TokenClaims;
  /** Channels the connect hook joined the connection to. */
  joined: readonly string[];
}

/** Who the client is: its token, or with no token and a connect hook on, the backend's answer. Undefined: it was disconnected. */
async function identify(s: Session, p: ConnectParams): Promise<Identity | undefined> {
  const facts = s.transport.requestFacts;
  s.transport.requestFacts = undefined;
  if (p.token === undefined && s.ctx.hooks.connectOn) return connectByHook(s, p, facts);
  try {
    return { claims: await s.ctx.verifier.verify(p.token), joined: [] };
  } catch (err) {
    if (!(err instanceof TokenError)) throw err;
    s.disconnect(err.code, err.message);
    return undefined;
  }
}

async function connectByHook(s: Session, p: ConnectParams, facts: ConnectFacts | undefined): Promise<Identity | undefined> {
  const verdict = await s.ctx.hooks.connect(s.id, s.transport.kind, facts, p.data);
  if (!verdict.ok) {
    s.disconnect('failed' in verdict ? CloseCode.HookUnavailable : CloseCode.ConnectRefused, asCloseReason(verdict.message));
    return undefined;
  }
  const { user, channels = [], info, ttl } = verdict.value;
  // The joined channels also count as granted, so presence and history on them pass the `claims` rule.
  const claims: TokenClaims = { user, channels, expiresAt: ttl === undefined ? undefined : Date.now() + ttl * 1000, info, admin: false };
  return { claims, joined: channels };
}

/** Subscriptions the server owes the connection: its personal channel and what the connect hook joined. */
function serverChannels(s: Session, identity: Identity): string[] {
  const own = s.ctx.config.client.personalChannel ? personalChannel(identity.claims.user) : undefined;
  if (identity.joined.length === 0) return own === undefined ? [] : [own];
  return [...new Set(own === undefined ? identity.joined : [own, ...identity.joined])];
}

function release(s: Session, results: Array<Prepared | Failure>): void {
  for (const r of results) if (!('error' in r)) s.ctx.hub.remove(r.subscriber);
}

async function tryPrepare(s: Session, channel: string, since: StreamPosition | undefined, server = false, want: SubscribeWants = {}): Promise<Prepared | Failure> {
  try {
    return await prepare(s, channel, since, server, want);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'number') return { channel, error: { code, message: (err as Error).message } };
    s.ctx.log.error({ err, channel }, 'subscribe failed');
    return { channel, error: { code: ErrorCode.Internal, message: 'internal error' } };
  }
}

// ------------------------------------------------------------ subscriptions

/** Check, register and read position/recovery; the caller replies, then activates. */
/** What a subscribe asks for: flow control, and data for the subscribe hook. */
type SubscribeWants = FlowRequest & { data?: unknown };

async function prepare(s: Session, channel: string, since: StreamPosition | undefined, server: boolean, want: SubscribeWants = {}): Promise<Prepared> {
  const { hub, policy, config, engine } = s.ctx;
  let rules: ChannelRules;
  if (server) {
    const r = policy.rulesFor(channel);
    if (!r) throw new ProtocolError(ErrorCode.UnknownChannel, 'unknown channel');
    rules = r;
  } else {
    const verdict = policy.canSubscribe(channel, s.identity);
    if (!verdict.ok) throw new ProtocolError(verdict.code, verdict.message);
    rules = verdict.rules;
  }
  if (s.subs.has(channel)) throw new ProtocolError(ErrorCode.AlreadySubscribed, `already subscribed to ${channel}`);
  // The limit is on what the client asks for: a subscription the server owes it (its personal channel) never counts, and is never dropped.
  if (!server && clientSubscriptions(s) >= config.client.channelLimit) throw new ProtocolError(ErrorCode.LimitExceeded, 'channel limit reached');
  const flow = flowSettings(rules.config.conflate, want);
  s.subs.set(channel, null);
  let prepared: Prepared;
  let hookInfo: unknown;
  try {
    // The server's own subscriptions were granted at connect; the client's go past the subscribe hook, if any.
    if (!server && s.ctx.hooks.subscribesThrough(rules.namespace)) hookInfo = await askSubscribeHook(s, channel, rules, want.data);
    prepared = await hub.prepare(s, channel, since, rules.history, config.client.recoveryMaxPublications, flow);
  } catch (err) {
    if (s.subs.get(channel) === null) s.subs.delete(channel);
    throw err;
  }
  if (s.isClosed || s.subs.get(channel) !== null) {
    // The connection went away or unsubscribed while we waited.
    hub.remove(prepared.subscriber);
    throw new ProtocolError(ErrorCode.BadRequest, 'subscription cancelled');
  }
  s.subs.set(channel, prepared.subscriber);
  if (rules.config.presence) {
    const entry = hookInfo === undefined ? s.clientInfo : { user: s.user, client: s.id, info: hookInfo };
    // Reported before the await, so a leave (removeSubscription) can never come first.
    if (hub.events.active) hub.events.emit({ kind: 'presence', channel, user: s.user, client: s.id, present: true });
    await engine.presence.add(channel, entry);
    if (rules.config.joinLeave) await engine.broker.publishJoin(channel, entry);
  }
  return prepared;
}

/** The subscribe hook's verdict: throws its refusal, returns the per-subscription info it gave. */
async function askSubscribeHook(s: Session, channel: string, rules: ChannelRules, data: unknown): Promise<unknown> {
  const verdict = await s.ctx.hooks.subscribe(rules.namespace, caller(s), channel, data);
  if (!verdict) return undefined;
  if (!verdict.ok) throw new ProtocolError(verdict.code, verdict.message);
  return verdict.value.info;
}

function caller(s: Session): Caller {
  return { client: s.id, user: s.user, info: s.tokenInfo };
}

function clientSubscriptions(s: Session): number {
  const own = s.ctx.config.client.personalChannel ? personalChannel(s.user) : undefined;
  return own !== undefined && s.subs.has(own) ? s.subs.size - 1 : s.subs.size;
}

async function subscribe(s: Session, id: number, p: SubscribeParams): Promise<void> {
  const prepared = await prepare(s, p.channel, p.since, false, p);
  if (s.isClosed) return;
  s.track(prepared.outcome);
  s.reply(id, subscribeResultJson(prepared.outcome));
  s.ctx.hub.activate(prepared);
}

async function unsubscribe(s: Session, id: number, p: ChannelParams): Promise<void> {
  s.removeSubscription(p.channel);
  s.transport.position?.(p.channel, null);
  s.reply(id, '{}');
}

// ------------------------------------------------------------ publish, presence, history

async function publish(s: Session, id: number, p: PublishParams): Promise<void> {
  const verdict = s.ctx.policy.canPublish(p.channel, s.identity, s.subs.has(p.channel));
  if (!verdict.ok) throw new ProtocolError(verdict.code, verdict.message);
  const data = await publishedData(s, verdict.rules, p);
  const pos = await s.ctx.engine.broker.publish(p.channel, data, { history: verdict.rules.history, info: s.clientInfo });
  s.reply(id, JSON.stringify(pos));
  const { events } = s.ctx.hub;
  if (events.active) events.emit({ kind: 'publication', channel: p.channel, user: s.user, client: s.id, data });
}

/** The publication's JSON: the client's data, or what the publish hook made of it (serialized once, for every subscriber). */
async function publishedData(s: Session, rules: ChannelRules, p: PublishParams): Promise<string> {
  if (!s.ctx.hooks.publishesThrough(rules.namespace)) return JSON.stringify(p.data);
  // One connection may not fill the node's hook queue: beyond its share it waits at the client.
  if (s.publishesAtHook >= s.ctx.config.hooks.maxPublishesPerConnection) {
    throw new ProtocolError(ErrorCode.TooManyRequests, 'too many publications waiting for the publish hook');
  }
  s.publishesAtHook++;
  try {
    return await askPublishHook(s, rules, p);
  } finally {
    s.publishesAtHook--;
  }
}

async function askPublishHook(s: Session, rules: ChannelRules, p: PublishParams): Promise<string> {
  const verdict = await s.ctx.hooks.publish(rules.namespace, caller(s), p.channel, p.data);
  if (!verdict) return JSON.stringify(p.data);
  if (!verdict.ok) throw new ProtocolError(verdict.code, verdict.message);
  return JSON.stringify(verdict.value.data === undefined ? p.data : verdict.value.data);
}

/** Presence and history need subscribe permission on the channel. */
function readable(s: Session, channel: string): ChannelRules {
  const verdict = s.ctx.policy.canSubscribe(channel, s.identity);
  if (!verdict.ok) throw new ProtocolError(verdict.code, verdict.message);
  return verdict.rules;
}

async function presence(s: Session, id: number, p: ChannelParams): Promise<void> {
  const rules = readable(s, p.channel);
  if (!rules.config.presence) throw new ProtocolError(ErrorCode.NotAvailable, 'presence is off for this channel');
  const clients = await s.ctx.engine.presence.list(p.channel);
  s.reply(id, JSON.stringify({ clients }));
}

async function history(s: Session, id: number, p: HistoryParams): Promise<void> {
  const rules = readable(s, p.channel);
  if (rules.history.size === 0) throw new ProtocolError(ErrorCode.NotAvailable, 'history is off for this channel');
  const limit = Math.min(p.limit ?? rules.history.size, rules.history.size);
  const h = await s.ctx.engine.broker.history(p.channel, { sinceOffset: p.since?.offset ?? 0, limit });
  s.reply(id, `{"epoch":${JSON.stringify(h.position.epoch)},"offset":${h.position.offset},"publications":${encodePubList(h.publications)}}`);
}

// ------------------------------------------------------------ signals

/**
 * An ephemeral signal from a subscriber: at once to the other subscribers,
 * nothing stored. A keyed one is held until its ttl, a `null`, or the
 * sender's leaving clears it (session.ts sends the clear).
 */
async function signal(s: Session, id: number, p: SignalParams): Promise<void> {
  const rules = s.subs.get(p.channel) ? s.ctx.policy.rulesFor(p.channel) : undefined;
  if (!rules) throw new ProtocolError(ErrorCode.PermissionDenied, `subscribe to ${p.channel} before sending signals on it`);
  if (!rules.config.signals) throw new ProtocolError(ErrorCode.NotAvailable, 'signals are off for this channel');
  const keys = s.signalKeys;
  const now = s.ctx.deadlines.now();
  if (!keys.admit(now)) throw new ProtocolError(ErrorCode.TooManyRequests, 'too many signals');
  const { broker } = s.ctx.engine;
  if (p.key !== undefined && p.data === null) {
    if (keys.release(p.channel, p.key)) await broker.publishSignal(p.channel, s.id, encodeSignalCleared(p.channel, p.key, s.clientInfo));
    return s.reply(id, '{}');
  }
  const data = JSON.stringify(p.data);
  if (p.key === undefined) {
    await broker.publishSignal(p.channel, s.id, encodeSignal(p.channel, data, s.clientInfo));
  } else {
    const { defaultTtl, maxTtl } = s.ctx.config.signals;
    const ttl = Math.min(p.ttl ?? defaultTtl, maxTtl);
    if (!keys.hold(p.channel, p.key, now + ttl)) throw new ProtocolError(ErrorCode.LimitExceeded, 'too many signal keys held');
    s.signalsChanged();
    await broker.publishSignal(p.channel, s.id, encodeSignal(p.channel, data, s.clientInfo, p.key, ttl));
  }
  s.reply(id, '{}');
  const { events } = s.ctx.hub;
  if (events.signals) events.emit({ kind: 'signal', channel: p.channel, user: s.user, client: s.id, data });
}

// ------------------------------------------------------------ refresh

async function refresh(s: Session, id: number, token: string): Promise<void> {
  let claims;
  try {
    claims = await s.ctx.verifier.verify(token);
  } catch (err) {
    if (!(err instanceof TokenError)) throw err;
    const code = err.code === CloseCode.TokenExpired ? ErrorCode.TokenExpired : ErrorCode.Unauthorized;
    throw new ProtocolError(code, err.message);
  }
  if (claims.user !== s.user) throw new ProtocolError(ErrorCode.Unauthorized, 'token is for another user');
  s.refreshed(claims);
  const ttl = claims.expiresAt === undefined ? '{}' : `{"ttl":${Math.max(0, Math.floor((claims.expiresAt - Date.now()) / 1000))}}`;
  s.reply(id, ttl);
}
