/**
 * One Pusher socket: a Transport that drives a normal Session, so limits,
 * presence, recovery, metrics and the hub's fan-out are the ones every
 * Tidings connection has. Pusher frames in become Tidings commands
 * (subscribe, unsubscribe, signal); Tidings replies and pushes out become
 * Pusher frames (translate.ts shares a publication's bytes between sockets).
 */
import type { Socket } from 'node:net';
import { CloseCode, ErrorCode, type ErrorBody, ProtocolError, type StreamPosition } from '@tidings/protocol';
import type { WebSocket } from 'ws';
import type { NodeContext } from '../node/context.js';
import { receiveValue } from '../session/inbound.js';
import { Session } from '../session/session.js';
import type { Transport } from '../session/transport.js';
import { PING_JSON } from '../wire/encode.js';
import type { SharedFrame } from '../wire/shared-frame.js';
import { wsTextFrame } from '../wire/ws-frame.js';
import type { PusherApp } from './apps.js';
import { PusherCode, pusherCloseCode } from './codes.js';
import {
  PING,
  PONG,
  type PusherFrame,
  PusherFrameError,
  encodeError,
  encodeEstablished,
  encodeMemberAdded,
  encodeMemberRemoved,
  encodePosition,
  encodeSigninSuccess,
  encodeSubscribed,
  encodeSubscriptionError,
  parsePusherFrame,
} from './frames.js';
import { presenceIdentity, signinIdentity } from './identity.js';
import { Members, distinctUsers } from './members.js';
import { type ChannelKind, SERVER_TO_USER, channelKind, socketIdOf, toTidings } from './names.js';
import { Outbound } from './outbound.js';
import { channelAuthValid, signinValid } from './signature.js';
import { type PresenceChange, PusherEvent, publicationEvent, translate } from './translate.js';

/** How long a closing socket may take to answer our close frame. */
const CLOSE_GRACE_MS = 3000;
/** Commands awaiting their reply; a client that floods past this gets an error, not memory. */
const MAX_PENDING = 256;
const PING_FRAME = wsTextFrame(PING);
const PONG_FRAME = wsTextFrame(PONG);

interface Sub {
  readonly name: string;
  readonly kind: ChannelKind;
  /** The extension's `tidings:position` after each event (docs/pusher-compatibility.md). */
  readonly positions: boolean;
  /** False until `subscription_succeeded` is written; events meanwhile wait in `held`. */
  live: boolean;
  held: Buffer[];
  /** The last position delivered: a resubscribe after a gap recovers from it. */
  pos?: StreamPosition;
  members?: Members;
}

type Pending = { kind: 'subscribe'; channel: string; since?: StreamPosition; again: boolean } | { kind: 'signal' } | { kind: 'ignore' };

interface SubscribeResultJson {
  channel: string;
  offset: number;
  epoch: string;
  recoverable: boolean;
  recovered: boolean;
  wasRecovering: boolean;
  publications: Array<{ channel: string; offset: number; epoch: string; data: unknown }>;
}

/** What the sockets of one endpoint share. */
export interface PusherEndpointState {
  readonly ctx: NodeContext;
  readonly sessions: Set<Session>;
}

export class PusherTransport implements Transport {
  readonly kind = 'websocket';
  readonly out: Outbound;
  readonly session: Session;
  readonly socketId: string;
  private readonly subs = new Map<string, Sub>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private heldBytes = 0;
  private signedIn = false;

  constructor(
    private readonly ws: WebSocket,
    socket: Socket,
    readonly app: PusherApp,
    private readonly endpoint: PusherEndpointState,
  ) {
    const { ctx } = endpoint;
    this.out = new Outbound(socket, ctx.config.client.queueMaxBytes, () => this.session.disconnect(CloseCode.Slow, 'slow'));
    this.session = new Session(ctx, this);
    this.socketId = socketIdOf(this.session.id);
    this.session.markConnected({ user: '', channels: [], admin: false });
    this.out.push(wsTextFrame(encodeEstablished(this.socketId, Math.max(1, Math.round(ctx.config.client.pingInterval / 1000)))));
  }

  private get ctx(): NodeContext {
    return this.endpoint.ctx;
  }

  private send(json: string): void {
    this.out.push(wsTextFrame(json));
  }

  private error(code: number | null, message: string): void {
    this.send(encodeError(code, message));
  }

  // ------------------------------------------------------------ in

  onMessage(data: Buffer, isBinary: boolean): void {
    if (!this.session.heard()) return;
    let frame: PusherFrame;
    try {
      if (isBinary) throw new PusherFrameError('binary frames are not part of the Pusher protocol');
      frame = parsePusherFrame(data.toString());
    } catch (err) {
      const message = err instanceof PusherFrameError ? err.message : 'unreadable frame';
      return this.session.rejectFrame(new ProtocolError(ErrorCode.BadRequest, message));
    }
    this.dispatch(frame);
  }

  private dispatch(frame: PusherFrame): void {
    switch (frame.kind) {
      case 'ping':
        if (this.session.admit()) this.out.push(PONG_FRAME);
        return;
      case 'pong':
        return;
      case 'subscribe':
        return this.subscribe(frame);
      case 'unsubscribe':
        return this.unsubscribe(frame.channel);
      case 'signin':
        if (this.session.admit()) this.signin(frame.auth, frame.userData);
        return;
      case 'client':
        return this.clientEvent(frame.event, frame.channel, frame.data);
    }
  }

  /** Run a Tidings command on the session; its reply comes back through sendJson. */
  private command(method: string, params: Record<string, unknown>, pending: Pending): void {
    if (this.pending.size >= MAX_PENDING) return this.error(null, 'too many requests in flight');
    const id = this.nextId++;
    this.pending.set(id, pending);
    receiveValue(this.session, { id, method, params });
  }

  // ------------------------------------------------------------ subscriptions

  private subscribe(f: Extract<PusherFrame, { kind: 'subscribe' }>): void {
    const channel = toTidings(this.app.id, f.channel);
    if (channel === undefined) return this.refuse(f.channel, 400, 'this user id has no personal channel');
    if (this.subs.has(channel)) return;
    if (this.subs.size >= this.ctx.config.client.channelLimit) return this.refuse(f.channel, 403, 'channel limit reached');
    const kind = channelKind(f.channel);
    const denied = this.authorize(kind, f);
    if (denied) return this.refuse(f.channel, 401, denied);
    if (kind !== 'public' && kind !== 'user') this.session.claims!.channels.push(channel);
    const sub: Sub = { name: f.channel, kind, positions: f.positions, live: false, held: [] };
    this.subs.set(channel, sub);
    if (kind !== 'presence') return this.start(channel, f.since);
    sub.members = new Members(this.app.maxPresenceMembers);
    void this.startIfRoom(channel, sub, f.since);
  }

  private start(channel: string, since: StreamPosition | undefined): void {
    const pending: Pending = { kind: 'subscribe', channel, again: false };
    if (since) pending.since = since;
    this.command('subscribe', since ? { channel, since } : { channel }, pending);
  }

  /** A full presence channel refuses a new user before they join, so nobody sees them come and go. */
  private async startIfRoom(channel: string, sub: Sub, since: StreamPosition | undefined): Promise<void> {
    let entries;
    try {
      entries = await this.ctx.engine.presence.list(channel);
    } catch {
      entries = undefined;
    }
    if (this.session.isClosed || this.subs.get(channel) !== sub) return;
    const user = this.session.user;
    const full = entries !== undefined && distinctUsers(entries) >= this.app.maxPresenceMembers && !entries.some((e) => e.user === user);
    if (entries && !full) return this.start(channel, since);
    this.forget(channel);
    this.refuse(sub.name, entries ? 403 : 503, entries ? 'presence channel is full' : 'presence unavailable, retry later');
  }

  /** Why the subscription is refused, or undefined when it is allowed. */
  private authorize(kind: ChannelKind, f: Extract<PusherFrame, { kind: 'subscribe' }>): string | undefined {
    const { app, socketId } = this;
    switch (kind) {
      case 'public':
        return undefined;
      case 'user':
        return this.signedIn && f.channel === SERVER_TO_USER + this.session.user ? undefined : 'sign in as this user first';
      case 'private':
      case 'encrypted':
        return channelAuthValid(app, socketId, f.channel, f.auth) ? undefined : 'invalid signature';
      case 'presence':
        if (f.channelData === undefined) return 'presence channels need channel_data';
        if (!channelAuthValid(app, socketId, f.channel, f.auth, f.channelData)) return 'invalid signature';
        return this.presenceIdentity(f.channelData);
    }
  }

  /** Take the user of a presence subscription's channel_data (one user per connection). */
  private presenceIdentity(channelData: string): string | undefined {
    const who = presenceIdentity(channelData);
    if (!who.ok) return who.message;
    return this.adoptUser(who.user, who.info) ? undefined : 'this connection already belongs to another user';
  }

  /** A Pusher connection becomes its user's on sign-in or its first presence subscription. */
  private adoptUser(id: string, info: unknown): boolean {
    const s = this.session;
    if (s.user === id) return true;
    if (s.user !== '') return false;
    s.user = id;
    if (info !== undefined) s.claims!.info = info;
    const count = this.ctx.hub.addMember(s);
    const limit = this.ctx.config.client.userConnectionLimit;
    if (limit > 0 && count > limit) s.disconnect(CloseCode.ConnectionLimit, 'connection limit');
    return !s.isClosed;
  }

  private refuse(name: string, status: number, message: string): void {
    this.send(encodeSubscriptionError(name, status, message));
  }

  private forget(channel: string): void {
    this.subs.delete(channel);
    const granted = this.session.claims!.channels;
    const i = granted.indexOf(channel);
    if (i >= 0) granted.splice(i, 1);
  }

  private unsubscribe(name: string): void {
    const channel = toTidings(this.app.id, name);
    if (channel === undefined || !this.subs.has(channel)) return;
    this.forget(channel);
    this.command('unsubscribe', { channel }, { kind: 'ignore' });
  }

  private onSubscribed(p: Extract<Pending, { kind: 'subscribe' }>, r: SubscribeResultJson): void {
    const sub = this.subs.get(p.channel);
    if (!sub) return this.command('unsubscribe', { channel: p.channel }, { kind: 'ignore' });
    if (r.recoverable) sub.pos = { offset: r.offset, epoch: r.epoch };
    if (p.again) return this.replay(sub, r, true);
    if (!sub.members) return this.confirm(sub, r, '{}');
    void this.listMembers(p.channel, sub, r);
  }

  /** Presence: the member list (every node's) goes in subscription_succeeded. */
  private async listMembers(channel: string, sub: Sub, r: SubscribeResultJson): Promise<void> {
    let entries;
    try {
      entries = await this.ctx.engine.presence.list(channel);
    } catch {
      entries = undefined;
    }
    if (this.session.isClosed || this.subs.get(channel) !== sub) return;
    if (!entries || distinctUsers(entries) > this.app.maxPresenceMembers) {
      this.forget(channel);
      this.command('unsubscribe', { channel }, { kind: 'ignore' });
      return this.refuse(sub.name, entries ? 403 : 503, entries ? 'presence channel is full' : 'presence unavailable, retry later');
    }
    for (const e of entries) sub.members!.add(e);
    this.confirm(sub, r, sub.members!.toJson());
  }

  private confirm(sub: Sub, r: SubscribeResultJson, dataJson: string): void {
    this.send(encodeSubscribed(sub.name, dataJson));
    this.replay(sub, r, r.wasRecovering);
    sub.live = true;
    for (const bytes of sub.held) this.out.push(bytes);
    this.heldBytes -= sub.held.reduce((n, b) => n + b.length, 0);
    sub.held = [];
  }

  /** Publications the subscribe recovered, then (extension) where the subscription stands. */
  private replay(sub: Sub, r: SubscribeResultJson, tellRecovery: boolean): void {
    for (const pub of r.publications) {
      const event = publicationEvent(pub);
      this.send(event.json(sub.name));
      if (sub.positions) this.send(encodePosition(sub.name, { offset: pub.offset, epoch: pub.epoch }));
    }
    if (sub.positions && r.recoverable) this.send(encodePosition(sub.name, { offset: r.offset, epoch: r.epoch }, tellRecovery ? r.recovered : undefined));
  }

  private onSubscribeFailed(p: Extract<Pending, { kind: 'subscribe' }>, error: ErrorBody): void {
    const sub = this.subs.get(p.channel);
    if (!sub) return;
    this.forget(p.channel);
    const status = error.code === ErrorCode.PermissionDenied ? 403 : error.code === ErrorCode.Unavailable ? 503 : 400;
    this.refuse(sub.name, status, error.message);
  }

  // ------------------------------------------------------------ sign-in and client events

  private signin(auth: string, userData: string): void {
    if (!signinValid(this.app, this.socketId, auth, userData)) return this.error(PusherCode.Unauthorized, 'invalid signin signature');
    const who = signinIdentity(userData);
    if (!who.ok) return this.error(null, who.message);
    if (!this.adoptUser(who.user, who.info)) return this.error(PusherCode.Unauthorized, 'this connection already belongs to another user');
    this.signedIn = true;
    this.send(encodeSigninSuccess(userData));
  }

  private clientEvent(event: string, name: string, data: unknown): void {
    if (!this.app.clientEvents) return this.error(null, 'client events are not enabled for this app');
    const channel = toTidings(this.app.id, name);
    const sub = channel === undefined ? undefined : this.subs.get(channel);
    if (!sub?.live) return this.error(null, `subscribe to ${name} before sending client events on it`);
    if (sub.kind !== 'private' && sub.kind !== 'presence') return this.error(null, 'client events need a private or presence channel');
    if (JSON.stringify(data).length > this.app.maxEventBytes) return this.error(null, `event data larger than ${this.app.maxEventBytes} bytes`);
    this.command('signal', { channel, data: { event, data } }, { kind: 'signal' });
  }

  // ------------------------------------------------------------ out (Transport)

  /** Replies to our commands, and the session's own pushes (ping, unsub, error). */
  sendJson(json: string): void {
    if (json === PING_JSON) return this.out.push(PING_FRAME);
    const msg = JSON.parse(json) as { id?: number; result?: unknown; error?: ErrorBody; type?: string; channel?: string; resubscribe?: boolean };
    if (msg.id !== undefined) return this.onReply(msg.id, msg.result, msg.error);
    if (msg.type === 'unsub' && msg.channel) return this.onUnsub(msg.channel, msg.resubscribe === true);
    if (msg.type === 'error' && msg.error) return this.error(null, msg.error.message);
  }

  private onReply(id: number, result: unknown, error: ErrorBody | undefined): void {
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (!p || p.kind === 'ignore') return;
    if (p.kind === 'signal') {
      if (error) this.error(error.code === ErrorCode.TooManyRequests ? PusherCode.ClientEventRate : null, error.message);
      return;
    }
    if (error) return this.onSubscribeFailed(p, error);
    this.onSubscribed(p, result as SubscribeResultJson);
  }

  /** The hub lost continuity (resubscribe, recovering from the last position) or the server ended the subscription. */
  private onUnsub(channel: string, resubscribe: boolean): void {
    const sub = this.subs.get(channel);
    if (!sub) return;
    if (!resubscribe) {
      this.forget(channel);
      return this.error(null, `unsubscribed from ${sub.name} by the server`);
    }
    const since = sub.pos;
    this.command('subscribe', since ? { channel, since } : { channel }, { kind: 'subscribe', channel, again: true });
  }

  sendShared(frame: SharedFrame): void {
    const t = translate(frame);
    if (t === null) return;
    const sub = this.subs.get(t.channel);
    if (!sub) return;
    if (t instanceof PusherEvent) this.onEvent(sub, t);
    else this.onPresence(sub, t);
  }

  private onEvent(sub: Sub, e: PusherEvent): void {
    if (e.position) sub.pos = e.position;
    if (e.exclude === this.session.id) return;
    const bytes = e.bytes(sub.name, sub.positions);
    if (sub.live) return this.out.push(bytes);
    this.heldBytes += bytes.length;
    if (this.heldBytes > this.ctx.config.client.queueMaxBytes) return this.session.disconnect(CloseCode.Slow, 'slow');
    sub.held.push(bytes);
  }

  private onPresence(sub: Sub, c: PresenceChange): void {
    const members = sub.members;
    if (!members) return;
    const { entry } = c;
    const changed = c.type === 'join' ? members.add(entry) : members.remove(entry);
    if (!changed || !sub.live || entry.user === this.session.user) return;
    this.send(c.type === 'join' ? encodeMemberAdded(sub.name, entry.user, entry.info) : encodeMemberRemoved(sub.name, entry.user));
  }

  farewell(json: string): void {
    const { code, reason } = JSON.parse(json) as { code: number; reason: string };
    this.out.farewell(wsTextFrame(encodeError(pusherCloseCode(code), reason)));
  }

  get queuedBytes(): number {
    return this.out.pending;
  }

  close(code: number, reason: string): void {
    this.out.close();
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(pusherCloseCode(code), reason.slice(0, 120));
    setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  abort(): void {
    this.out.close();
    this.ws.terminate();
  }

  onClose(): void {
    this.out.close();
    this.app.connections--;
    this.endpoint.sessions.delete(this.session);
    this.session.onTransportClosed();
  }
}
