/**
 * One client connection, whatever its transport: a small state machine
 *
 *   opening ──connect──▶ connecting ──token ok──▶ connected ──▶ closed
 *      └──────── timeout / bad token / disconnect ───────────────┘
 *
 * It enforces the command rate, keeps the ping/pong and token expiry timers,
 * and owns the connection's subscriptions. Frames come in through inbound.ts,
 * which decodes them and runs the command handlers of commands.ts.
 */
import {
  type ClientInfo,
  CloseCode,
  ErrorCode,
  type ErrorBody,
  ProtocolError,
  UnsubCode,
  closeReason,
  isTemporaryError,
} from '@tidings/protocol';
import type { TokenClaims } from '../auth/verifier.js';
import type { Identity } from '../channels/policy.js';
import { asCloseReason } from '../hooks/hooks.js';
import type { Member, Subscriber } from '../hub/hub.js';
import type { NodeContext } from '../node/context.js';
import type { HasDeadline } from '../node/deadlines.js';
import { RpcCalls } from '../rpc/calls.js';
import type { RpcPeer } from '../rpc/peer.js';
import {
  PING_JSON,
  type SubscribeOutcome,
  encodeDisconnect,
  encodeError,
  encodeErrorPush,
  encodeRefresh,
  encodeReply,
  encodeSignalCleared,
  encodeUnsub,
} from '../wire/encode.js';
import type { SharedFrame } from '../wire/shared-frame.js';
import { newConnectionId } from './ids.js';
import { SignalKeys } from './signals.js';
import { SmallMap } from './small-map.js';
import { refill } from './token-bucket.js';
import type { Transport } from './transport.js';

type State = 'opening' | 'connecting' | 'connected' | 'closed';

/** Malformed frames tolerated before the connection is closed with 3501. */
const MAX_BAD_FRAMES = 10;
/** No deadline of this kind. */
const NONE = -1;

export class Session implements Member, RpcPeer, HasDeadline {
  readonly id = newConnectionId();
  user = '';
  state: State = 'opening';
  claims?: TokenClaims;
  /** Channel → subscriber; `null` while the subscribe is in progress. */
  readonly subs = new SmallMap<Subscriber | null>();
  /** RPCs in flight; made on first use, since most connections never call one. */
  private calls?: RpcCalls;
  /** Signal budget and held keys; made on the first signal. */
  private signals?: SignalKeys;
  /** Publications of this connection waiting for the publish hook (bounded by hooks.maxPublishesPerConnection). */
  publishesAtHook = 0;

  /** Owned by ctx.deadlines. Times below are on its clock (`ctx.deadlines.now()`): small integers, not boxed doubles. */
  dueTick = NONE;
  dueSlot = NONE;
  private awaitingPong = false;
  private pingDue = NONE;
  private pongCheck = false;
  private tokenDue = NONE;
  private refreshAsked = false;
  private badFrames = 0;
  /** When `connect` succeeded, on the wheel's clock (a small integer), for the disconnect log line's duration. */
  private connectedAt = 0;
  /** Command budget in thousandths of a command (an integer). */
  /** The command budget (token-bucket.ts), on the wheel's clock. */
  milliTokens: number;
  lastRefill: number;

  constructor(
    readonly ctx: NodeContext,
    readonly transport: Transport,
  ) {
    this.milliTokens = ctx.config.client.commandBurst * 1000;
    this.lastRefill = ctx.deadlines.now();
    ctx.deadlines.schedule(this, this.lastRefill + ctx.config.client.connectTimeout);
  }

  get rpcs(): RpcCalls {
    return (this.calls ??= new RpcCalls(this, this.ctx.rpc));
  }

  get signalKeys(): SignalKeys {
    return (this.signals ??= new SignalKeys(this.ctx.config.signals, this.ctx.deadlines.now()));
  }

  /** Who this connection is, as publications and signals name it. */
  get clientInfo(): ClientInfo {
    const info = this.claims?.info;
    return info === undefined ? { user: this.user, client: this.id } : { user: this.user, client: this.id, info };
  }

  get tokenInfo(): unknown {
    return this.claims?.info;
  }

  get queuedBytes(): number {
    return this.transport.queuedBytes;
  }

  /** A quarter of the queue limit is waiting: conflatable channels hold their publications back (hub/flow.ts). */
  get behind(): boolean {
    return this.transport.queuedBytes > this.ctx.config.client.queueMaxBytes / 4;
  }

  get canSendBinary(): boolean {
    return this.transport.sendBinary !== undefined;
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  get identity(): Identity {
    return { user: this.user, channels: this.claims?.channels ?? [], admin: this.claims?.admin === true };
  }

  // ------------------------------------------------------------ input (inbound.ts decodes and runs commands)

  /** Any frame from the client is a sign of life. False once the session is closed: drop the frame. */
  heard(): boolean {
    if (this.state === 'closed') return false;
    this.awaitingPong = false;
    return true;
  }

  /** A frame this protocol cannot read (binary, malformed). */
  rejectFrame(err: unknown): void {
    const pe = err instanceof ProtocolError ? err : new ProtocolError(ErrorCode.BadRequest, 'unreadable frame');
    const body = { code: pe.code, message: pe.message };
    if (pe.id !== undefined) this.replyError(pe.id, body);
    else this.transport.sendJson(encodeErrorPush(body));
    if (++this.badFrames > MAX_BAD_FRAMES) this.disconnect(CloseCode.BadRequest, 'too many malformed frames');
  }

  /** A WebSocket-level ping from the client: proof of life, and a command for the rate limit. */
  onPing(): boolean {
    this.awaitingPong = false;
    return this.state !== 'closed' && this.admit();
  }

  /** Token bucket: `commandRate` per second, bursts up to `commandBurst`; far past it, the client is cut. */
  admit(): boolean {
    const { commandRate, commandBurst } = this.ctx.config.client;
    const now = this.ctx.deadlines.now();
    refill(this, now, commandRate, commandBurst);
    const ok = this.milliTokens >= 1000;
    if (!ok) this.ctx.counters.rateLimited++;
    if (!ok && this.milliTokens < -commandBurst * 1000) this.disconnect(CloseCode.TooManyRequests, 'too many requests');
    this.milliTokens -= 1000;
    return ok;
  }

  // ------------------------------------------------------------ output

  reply(id: number, resultJson: string): void {
    if (this.state !== 'closed') this.transport.sendJson(encodeReply(id, resultJson));
  }

  replyError(id: number, error: ErrorBody): void {
    if (this.state === 'closed') return;
    if (isTemporaryError(error.code)) error.temporary = true;
    this.transport.sendJson(encodeError(id, error));
  }

  sendShared(frame: SharedFrame): void {
    this.transport.sendShared(frame);
  }

  sendJson(json: string): void {
    if (this.state !== 'closed') this.transport.sendJson(json);
  }

  sendBinary(headerJson: string, payload: Uint8Array): void {
    if (this.state !== 'closed') this.transport.sendBinary?.(headerJson, payload);
  }

  /** A subscription now stands at `o`'s position (SSE event ids follow it). */
  track(o: SubscribeOutcome): void {
    if (o.wasRecovering) {
      if (o.recovered) this.ctx.counters.recovered++;
      else this.ctx.counters.recoveryFailed++;
    }
    if (o.recoverable) this.transport.position?.(o.channel, { offset: o.offset, epoch: o.epoch });
  }

  // ------------------------------------------------------------ lifecycle

  /** Called by the connect command once the token is verified and subscriptions are prepared. */
  markConnected(claims: TokenClaims): void {
    this.state = 'connected';
    this.claims = claims;
    this.connectedAt = this.ctx.deadlines.now();
    this.ctx.log.info({ user: this.user, client: this.id, transport: this.transport.kind }, 'connect');
    this.report(true);
    this.pingDue = this.ctx.deadlines.now() + this.ctx.config.client.pingInterval;
    this.planToken();
    this.arm();
  }

  /** A new token arrived through `refresh`. */
  refreshed(claims: TokenClaims): void {
    this.claims = claims;
    this.planToken();
    this.arm();
  }

  /** Ask for a new token a little before `exp` (at most 30 s, at least half its life). */
  private planToken(): void {
    this.refreshAsked = false;
    const exp = this.claims?.expiresAt;
    if (exp === undefined) return void (this.tokenDue = NONE);
    const left = exp - Date.now();
    this.tokenDue = this.ctx.deadlines.now() + Math.max(0, Math.round(left - Math.min(30_000, left / 2)));
  }

  /** Wake for whichever step is due first (one deadline per session, on the node's shared wheel). */
  private arm(): void {
    let at = this.tokenDue === NONE ? this.pingDue : Math.min(this.pingDue, this.tokenDue);
    const signalDue = this.signals?.next() ?? NONE;
    if (signalDue !== NONE) at = Math.min(at, signalDue);
    this.ctx.deadlines.schedule(this, at);
  }

  /** A keyed signal's deadline changed: wake for it in time. */
  signalsChanged(): void {
    if (this.state === 'connected') this.arm();
  }

  /** Called by ctx.deadlines: the connect timeout before `connect`, then the ping and token steps. */
  onDeadline(): void {
    if (this.state === 'opening' || this.state === 'connecting') return this.disconnect(CloseCode.Stale, 'no connect command in time');
    if (this.state !== 'connected') return;
    const now = this.ctx.deadlines.now();
    if (this.tokenDue !== NONE && now >= this.tokenDue) this.tokenStep();
    if (this.signals) for (const [channel, key] of this.signals.takeExpired(now)) this.clearSignal(channel, key);
    if (this.state === 'connected' && now >= this.pingDue) this.pingStep(now);
    if (this.state === 'connected') this.arm();
  }

  /** Ping, then at the pong deadline check for an answer; the next ping follows pingInterval later. */
  private pingStep(now: number): void {
    const { pingInterval, pongTimeout } = this.ctx.config.client;
    if (this.pongCheck) {
      if (this.awaitingPong) return this.disconnect(CloseCode.NoPong, 'no pong');
      this.pongCheck = false;
      this.pingDue = now + pingInterval;
      return;
    }
    this.transport.sendJson(PING_JSON);
    // SSE clients cannot answer on the stream, and a POST per ping is not worth it: the ping only feeds their watchdog.
    if (this.transport.kind === 'sse') return void (this.pingDue = now + pingInterval);
    this.awaitingPong = true;
    this.pongCheck = true;
    this.pingDue = now + pongTimeout;
  }

  /** First the refresh push; at `exp` + leeway, with no new token, close with 3005. */
  private tokenStep(): void {
    const exp = this.claims!.expiresAt!;
    if (this.refreshAsked) return this.disconnect(CloseCode.ConnectionExpired, 'connection expired');
    this.refreshAsked = true;
    if (this.ctx.hooks.refreshOn) void this.extendByHook();
    else this.transport.sendJson(encodeRefresh(Math.max(0, Math.round((exp - Date.now()) / 1000))));
    this.tokenDue = this.ctx.deadlines.now() + Math.max(0, exp + this.ctx.config.token.leeway - Date.now());
  }

  /**
   * The refresh hook instead of the client: a yes extends the session, a no
   * ends it (3005); a failed call leaves it to expire at `exp` + leeway.
   */
  private async extendByHook(): Promise<void> {
    const verdict = await this.ctx.hooks.refresh({ client: this.id, user: this.user, info: this.tokenInfo });
    if (this.state !== 'connected') return;
    if (verdict.ok) {
      const { ttl, info } = verdict.value;
      this.refreshed({ ...this.claims!, expiresAt: Date.now() + ttl * 1000, info: info === undefined ? this.tokenInfo : info });
    } else if (!('failed' in verdict)) {
      this.disconnect(CloseCode.ConnectionExpired, asCloseReason(verdict.message));
    }
  }

  /** Tell the client why, then close. Safe to call more than once. */
  disconnect(code: number, reason: string): void {
    if (this.state === 'closed') return;
    const why = reason || closeReason[code] || 'disconnect';
    this.ctx.disconnects.set(code, (this.ctx.disconnects.get(code) ?? 0) + 1);
    this.transport.farewell(encodeDisconnect(code, why));
    this.transport.close(code, why);
    this.cleanup(code, true);
  }

  /** The hub lost continuity on `channel`: drop it here and ask the client to resubscribe with recovery. */
  resubscribe(channel: string): void {
    const sub = this.subs.get(channel);
    if (!sub) return;
    this.removeSubscription(channel);
    this.sendJson(encodeUnsub(channel, CloseCode.InsufficientState, 'insufficient state', true));
  }

  unsubscribe(channel: string, reason: string): void {
    if (!this.subs.get(channel)) return;
    this.removeSubscription(channel);
    this.sendJson(encodeUnsub(channel, UnsubCode.ByServer, reason, false));
  }

  /** Tell the channel's other subscribers that this connection's keyed signal is over. */
  clearSignal(channel: string, key: string): void {
    void this.ctx.engine.broker.publishSignal(channel, this.id, encodeSignalCleared(channel, key, this.clientInfo)).catch(() => {});
  }

  /** Forget a subscription here, in the hub and in presence; its keyed signals end. */
  removeSubscription(channel: string): void {
    const sub = this.subs.get(channel);
    this.subs.delete(channel);
    if (!sub) return;
    const { engine, hub } = this.ctx;
    const rules = this.ctx.policy.rulesFor(channel);
    // The member leaves before the channel can empty (webhooks: member_removed, then channel_vacated).
    if (rules?.config.presence && hub.events.active) hub.events.emit({ kind: 'presence', channel, user: this.user, client: this.id, present: false });
    hub.remove(sub);
    if (this.signals) for (const key of this.signals.takeChannel(channel)) this.clearSignal(channel, key);
    if (!rules?.config.presence) return;
    void engine.presence.remove(channel, this.id).catch(() => {});
    if (rules.config.joinLeave) void engine.broker.publishLeave(channel, { client: this.id, user: this.user }).catch(() => {});
  }

  /** The transport is gone (closed by either side); `code` is the client's close code when it sent one. */
  onTransportClosed(code?: number): void {
    this.cleanup(code, false);
  }

  private cleanup(code: number | undefined, byServer: boolean): void {
    if (this.state === 'closed') return;
    const wasMember = this.state === 'connected' || this.state === 'connecting';
    this.account(code, byServer);
    const wasConnected = this.state === 'connected';
    this.state = 'closed';
    this.ctx.deadlines.cancel(this);
    for (const channel of this.subs.keys()) this.removeSubscription(channel);
    if (wasConnected) this.report(false);
    if (wasMember && this.user) this.ctx.hub.removeMember(this);
    this.calls?.abortAll();
  }

  /** One log line per connected session's end; a server's refusal before that counts as a refusal. */
  private account(code: number | undefined, byServer: boolean): void {
    const { counters, log } = this.ctx;
    const transport = this.transport.kind;
    if (this.state !== 'connected') {
      if (byServer && code !== undefined) counters.refused(transport, code);
      return;
    }
    counters.disconnected(transport, code, byServer);
    log.info({ user: this.user, client: this.id, transport, code: code ?? null, by: byServer ? 'server' : 'client', duration: this.ctx.deadlines.now() - this.connectedAt }, 'disconnect');
  }

  /** Connected or gone, for the node's event bus (webhooks). */
  private report(present: boolean): void {
    const { events } = this.ctx.hub;
    if (events.active) events.emit({ kind: 'connection', user: this.user, client: this.id, present });
  }
}
