/**
 * SSE transport: the same sessions as the WebSocket, over two plain HTTP
 * requests, for networks whose proxies refuse WebSocket upgrades.
 *
 *   GET  /sse?connect=<JSON ConnectParams>   the stream: every server frame is one `data:` event
 *   POST /sse/command  {session, frames}     client commands for that stream; answered 202,
 *                                            their replies come down the stream
 *
 * The stream's connect reply carries `session`, an unguessable key naming the
 * node that holds the stream. A POST that lands on another node (no sticky
 * sessions) is forwarded through the engine's control channel. Event ids carry
 * every subscription's position (sse-wire.ts), so an EventSource that
 * reconnects by itself with Last-Event-ID resumes them all.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CloseCode, ErrorCode, type StreamPosition } from '@tidings/protocol';
import type { ControlMessage } from '../engine/control.js';
import { HttpError, readJson, sendError, sendJson } from '../http/json.js';
import type { ConnectFacts } from '../hooks/facts.js';
import type { NodeContext } from '../node/context.js';
import { receiveValue } from '../session/inbound.js';
import { Session } from '../session/session.js';
import type { Transport } from '../session/transport.js';
import { sseDataEvent } from '../wire/sse-event.js';
import type { SharedFrame } from '../wire/shared-frame.js';
import { Outbox } from './outbox.js';
import { Traffic, type TrafficTotals } from './traffic.js';
import type { TransportShared } from './websocket.js';
import { eventId, idFragment, parseCommandBody, parseConnectQuery, parseLastEventId, readCookie, withResume } from './sse-wire.js';

const HEARTBEAT = Buffer.from(':\n\n');
const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  // nginx and some others buffer responses unless told not to.
  'x-accel-buffering': 'no',
};

class SseTransport implements Transport {
  readonly kind = 'sse';
  readonly outbox: Outbox;
  session?: Session;
  requestFacts: ConnectFacts | undefined;
  /** Channel → its part of the event id. */
  private readonly fragments = new Map<string, string>();
  private idChanged = false;
  private readonly heartbeat: NodeJS.Timeout;
  /** The socket's byte counters when the stream opened (it may have carried earlier requests). */
  private readonly baseIn: number;
  private readonly baseOut: number;

  constructor(
    private readonly res: ServerResponse,
    readonly sessionKey: string,
    limit: number,
    heartbeatMs: number,
    private readonly sampler: TransportShared['sampler'],
  ) {
    this.baseIn = res.socket?.bytesRead ?? 0;
    this.baseOut = res.socket?.bytesWritten ?? 0;
    this.outbox = new Outbox(res, limit, this);
    this.heartbeat = setInterval(() => this.outbox.push(HEARTBEAT), heartbeatMs);
    this.heartbeat.unref();
  }

  onOverflow(): void {
    this.session?.disconnect(CloseCode.Slow, 'slow');
  }

  sendJson(json: string): void {
    this.write(sseDataEvent(json));
  }

  farewell(json: string): void {
    this.outbox.farewell(sseDataEvent(json));
  }

  sendShared(frame: SharedFrame): void {
    if (frame.position) this.position(frame.position.channel, frame.position);
    this.write(frame.sseBytes());
    this.sampler.note(frame);
  }

  /** Bytes in and out on this stream's socket since it opened. */
  bytes(): [number, number] {
    const socket = this.res.socket;
    return socket ? [socket.bytesRead - this.baseIn, socket.bytesWritten - this.baseOut] : [0, 0];
  }

  position(channel: string, pos: StreamPosition | null): void {
    if (pos) this.fragments.set(channel, idFragment(channel, pos));
    else this.fragments.delete(channel);
    this.idChanged = true;
  }

  /** An event, preceded by an `id:` line when a position moved since the last one. */
  private write(event: Buffer): void {
    if (this.idChanged) {
      this.idChanged = false;
      if (!this.outbox.push(Buffer.from(`id: ${eventId(this.fragments.values())}\n`))) return;
    }
    this.outbox.push(event);
  }

  get queuedBytes(): number {
    return this.outbox.pending;
  }

  close(): void {
    this.stop();
    this.outbox.flush();
    this.outbox.close();
    this.res.end();
  }

  abort(): void {
    this.stop();
    this.outbox.close();
    this.res.destroy();
  }

  stop(): void {
    clearInterval(this.heartbeat);
  }
}

export interface SseEndpoint {
  /** SSE streams opened since start. */
  readonly streams: () => number;
  /** Command frames received and bytes on the streams' sockets. */
  traffic(): TrafficTotals;
  /** Serve `/sse` and `/sse/*`; answers every request itself, errors included. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
  /** Commands forwarded by other nodes. */
  onControl(msg: ControlMessage): void;
}

/**
 * Serve SSE for node `nodeId`. `sessions` is the node's set of open sessions
 * (the WebSocket endpoint's), so counts, stats and the drain cover both.
 */
export function createSseEndpoint(ctx: NodeContext, nodeId: string, sessions: Set<Session>, shared: TransportShared): SseEndpoint {
  const byKey = new Map<string, Session>();
  const traffic = new Traffic();
  const origins = new Set(ctx.config.client.allowedOrigins);
  let streams = 0;

  /** CORS for browsers on another origin; a listed origin may also send cookies. */
  function cors(req: IncomingMessage, res: ServerResponse): void {
    const origin = req.headers.origin;
    if (origin === undefined) return;
    if (origins.size > 0 && !origins.has(origin)) throw new HttpError(403, ErrorCode.PermissionDenied, 'origin not allowed');
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('vary', 'origin');
    if (origins.size > 0) res.setHeader('access-control-allow-credentials', 'true');
  }

  function open(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const lastId = req.headers['last-event-id'];
    const params = withResume(parseConnectQuery(url.searchParams.get('connect')), parseLastEventId(Array.isArray(lastId) ? lastId[0] : lastId));
    const cookie = ctx.config.sse.tokenCookie;
    if (params.token === undefined && cookie) {
      const token = readCookie(req.headers.cookie, cookie);
      if (token !== undefined) params.token = token;
    }
    const address = admit(req);
    const key = `${nodeId}.${randomBytes(18).toString('base64url')}`;
    res.writeHead(200, STREAM_HEADERS);
    res.write(`retry: ${ctx.config.sse.retry}\n\n`);
    const transport = new SseTransport(res, key, ctx.config.client.queueMaxBytes, ctx.config.sse.heartbeat, shared.sampler);
    transport.requestFacts = ctx.hooks.requestFacts(req.socket.remoteAddress, req.headers);
    const session = new Session(ctx, transport);
    transport.session = session;
    streams++;
    byKey.set(key, session);
    sessions.add(session);
    res.on('error', () => {});
    res.on('close', () => {
      shared.admission.release(address);
      traffic.add(...transport.bytes());
      transport.stop();
      transport.outbox.close();
      byKey.delete(key);
      sessions.delete(session);
      session.onTransportClosed();
    });
    receiveValue(session, { id: 1, method: 'connect', params });
  }

  /** Count the stream against the node's connection limits, or refuse it (counted by status). */
  function admit(req: IncomingMessage): string {
    const address = shared.admission.sourceAddress(req);
    const refusal = ctx.accepting
      ? shared.admission.admit(address)
      : { status: 503, code: ErrorCode.Unavailable, message: 'node is draining, reconnect elsewhere' };
    if (!refusal) return address;
    ctx.counters.refused('sse', refusal.status);
    throw new HttpError(refusal.status, refusal.code, refusal.message);
  }

  function deliver(session: Session, frames: unknown[]): void {
    traffic.messagesIn += frames.length;
    for (const f of frames) receiveValue(session, f);
  }

  async function command(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { session: key, frames } = parseCommandBody(await readJson(req, ctx.config.client.maxMessageBytes));
    const local = byKey.get(key);
    if (local) deliver(local, frames);
    else if (key.startsWith(`${nodeId}.`)) throw new HttpError(404, ErrorCode.NotConnected, 'no such session: open a new stream');
    else await forward(key, frames);
    sendJson(res, 202, {});
  }

  async function forward(session: string, frames: unknown[]): Promise<void> {
    try {
      await ctx.engine.control.publish({ kind: 'sseCommand', session, frames });
    } catch {
      throw new HttpError(503, ErrorCode.Unavailable, 'engine unavailable, retry later');
    }
  }

  function preflight(res: ServerResponse): void {
    res.writeHead(204, {
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'content-type, last-event-id',
      'access-control-max-age': '600',
    });
    res.end();
  }

  async function route(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    cors(req, res);
    const route = `${req.method} ${path}`;
    if (req.method === 'OPTIONS' && (path === '/sse' || path === '/sse/command')) return preflight(res);
    if (route === 'GET /sse') return open(req, res);
    if (route === 'POST /sse/command') return command(req, res);
    throw new HttpError(404, ErrorCode.MethodNotFound, `no route ${route}`);
  }

  return {
    streams: () => streams,
    traffic() {
      const live = { messagesIn: traffic.messagesIn, bytesIn: traffic.bytesIn, bytesOut: traffic.bytesOut };
      for (const s of sessions) {
        if (!(s.transport instanceof SseTransport)) continue;
        const [bytesIn, bytesOut] = s.transport.bytes();
        live.bytesIn += bytesIn;
        live.bytesOut += bytesOut;
      }
      return live;
    },
    async handle(req, res, path) {
      try {
        await route(req, res, path);
      } catch (err) {
        if (res.headersSent) return void res.destroy();
        if (err instanceof HttpError) return sendError(res, err);
        ctx.log.error({ err, path }, 'sse request failed');
        sendError(res, new HttpError(500, ErrorCode.Internal, 'internal error'));
      }
    },
    onControl(msg) {
      if (msg.kind !== 'sseCommand' || !Array.isArray(msg.frames)) return;
      const session = byKey.get(msg.session);
      if (session) deliver(session, msg.frames);
    },
  };
}
