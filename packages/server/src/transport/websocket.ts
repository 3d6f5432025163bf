/**
 * WebSocket transport: the upgrade (path, Origin and connection limits, the
 * handshake of ws-handshake.ts), then one Session per socket. Incoming frames
 * are parsed by wire/ws-receiver.ts (masking, fragments, UTF-8, size → 1009);
 * outgoing frames go through our Outbox straight to the socket, framed once
 * per publication. No WebSocket library sits on the connection: a connect
 * costs one handshake and two small objects, not a library's socket, parser
 * and sender streams (bench/RESULTS.md, connect cost).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { CloseCode } from '@tidings/protocol';
import type { ConnectFacts } from '../hooks/facts.js';
import { httpRefusal } from '../http/refusal.js';
import type { NodeContext } from '../node/context.js';
import { receiveBinary, receiveText } from '../session/inbound.js';
import { Session } from '../session/session.js';
import type { Transport } from '../session/transport.js';
import type { SharedFrame } from '../wire/shared-frame.js';
import { wsBinaryFrame, wsCloseFrame, wsPongFrame, wsTextFrame } from '../wire/ws-frame.js';
import { type FrameHandler, WsReceiver } from '../wire/ws-receiver.js';
import type { Admission } from './admission.js';
import { Outbox, type OverflowHandler, type Sink } from './outbox.js';
import { type FanoutSampler, Traffic, type TrafficTotals } from './traffic.js';
import { answerHandshake } from './ws-handshake.js';

/** The source address an upgrade was admitted under, kept on its socket until the socket closes. */
const ADMITTED = Symbol('tidings.admittedAddress');
type AdmittedSocket = Duplex & { [ADMITTED]?: string | undefined };
/** The transport on a socket, for the listeners every socket shares. */
const TRANSPORT = Symbol('tidings.wsTransport');
type WsSocket = Socket & { [TRANSPORT]?: WebSocketTransport };

/** How long a closing socket may take to answer our close frame. */
const CLOSE_GRACE_MS = 3000;
/** What the session hears when the socket ended with no Close frame (RFC 6455 §7.1.5). */
const ABNORMAL = 1006;

/**
 * Fragments one message may come in (more: close 1008). A message counts once
 * against the command rate however many frames carry it, so without a tight
 * cap a client could make the node parse thousands of empty frames per
 * command. One per KiB of the largest message, and never fewer than 64.
 */
function maxFragments(maxMessageBytes: number): number {
  return Math.max(64, Math.ceil(maxMessageBytes / 1024));
}

// One listener of each kind for every socket (a closure per socket was a share of an idle connection's heap).
function onSocketData(this: WsSocket, chunk: Buffer): void {
  this[TRANSPORT]?.receiver.push(chunk);
}
function onSocketEnd(this: WsSocket): void {
  // The client half-closed without a Close frame: end our side too.
  this.end();
}
function onSocketClose(this: WsSocket): void {
  this[TRANSPORT]?.onSocketClosed();
}
function onSocketError(this: WsSocket, err: Error): void {
  this[TRANSPORT]?.onError(err);
  this.destroy();
}

class WebSocketTransport implements Transport, OverflowHandler, FrameHandler {
  readonly kind = 'websocket';
  readonly outbox: Outbox;
  readonly session: Session;
  readonly receiver: WsReceiver;
  /** Our Close frame went out: data from the client is no longer read. */
  private closing = false;
  private closeReceived = false;
  /** What the session hears when the socket closes: the client's close code, a fault's, or 1006. */
  private closeCode = ABNORMAL;

  constructor(
    readonly socket: WsSocket,
    private readonly endpoint: Endpoint,
    public requestFacts: ConnectFacts | undefined,
    limits: { maxMessageBytes: number; maxFragments: number },
  ) {
    this.outbox = new Outbox(socket as Sink, endpoint.ctx.config.client.queueMaxBytes, this);
    this.session = new Session(endpoint.ctx, this);
    this.receiver = new WsReceiver(this, limits);
  }

  onText(data: Buffer): void {
    if (this.closing) return;
    this.endpoint.traffic.messagesIn++;
    receiveText(this.session, data.toString());
  }

  onBinary(data: Buffer): void {
    if (this.closing) return;
    this.endpoint.traffic.messagesIn++;
    // Binary messages carry rpc commands with raw bytes (docs/protocol.md, "Binary payloads").
    receiveBinary(this.session, data);
  }

  onPing(data: Buffer): void {
    if (this.session.onPing() && !this.closing) this.outbox.push(wsPongFrame(data));
  }

  /** The client's Close: answer it (after what the outbox owes, a pong for an earlier ping included, RFC 6455 §5.5.2) and end. */
  onCloseFrame(code: number): void {
    this.closeReceived = true;
    this.closeCode = code;
    this.sendClose(code === 1005 ? undefined : code, '');
    this.socket.end();
    // A client that never closes its side after the handshake is dropped, as after our own Close.
    this.graceTimer();
  }

  onFault(code: number, message: string): void {
    this.endpoint.ctx.log.debug({ code, reason: message, client: this.session.id }, 'websocket protocol error');
    this.closeCode = code;
    this.sendClose(code, '');
    this.graceTimer();
  }

  onSocketClosed(): void {
    this.socket[TRANSPORT] = undefined;
    this.outbox.close();
    this.endpoint.sessions.delete(this.session);
    this.endpoint.traffic.add(this.socket.bytesRead, this.socket.bytesWritten);
    this.session.onTransportClosed(this.closeCode);
  }

  onError(err: Error): void {
    this.endpoint.ctx.log.debug({ err: err.message, client: this.session.id }, 'websocket error');
  }

  onOverflow(): void {
    this.session.disconnect(CloseCode.Slow, 'slow');
  }

  sendJson(json: string): void {
    this.outbox.push(wsTextFrame(json));
  }

  sendShared(frame: SharedFrame): void {
    this.outbox.push(frame.wsBytes());
    this.endpoint.sampler.note(frame);
  }

  farewell(json: string): void {
    this.outbox.farewell(wsTextFrame(json));
  }

  sendBinary(headerJson: string, payload: Uint8Array): void {
    this.outbox.push(wsBinaryFrame(headerJson, payload));
  }

  get queuedBytes(): number {
    return this.outbox.pending;
  }

  close(code: number, reason: string): void {
    this.sendClose(code, reason);
    if (this.closeReceived) this.socket.end();
    this.graceTimer();
  }

  abort(): void {
    this.outbox.close();
    this.socket.destroy();
  }

  /** Write what the outbox holds, then our Close frame, once; nothing more is written after it. */
  private sendClose(code: number | undefined, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    this.outbox.flush();
    this.outbox.close();
    if (this.socket.writable) this.socket.write(wsCloseFrame(code, reason));
  }

  private graceTimer(): void {
    const { socket } = this;
    setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
  }
}

/** What the transports of one endpoint share. */
interface Endpoint {
  readonly ctx: NodeContext;
  readonly sessions: Set<Session>;
  readonly traffic: Traffic;
  readonly sampler: FanoutSampler;
}

/** What the node's transports share: connection admission and the fan-out sample. */
export interface TransportShared {
  readonly admission: Admission;
  readonly sampler: FanoutSampler;
}

/** Until the handshake is answered, an error on the socket just ends it. */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

export interface WebSocketEndpoint {
  /** Open sessions on this endpoint. */
  readonly sessions: Set<Session>;
  /** Completed WebSocket handshakes since start. */
  readonly handshakes: () => number;
  /** Frames and bytes through this endpoint's sockets, open and closed. */
  traffic(): TrafficTotals;
}

/** Serve WebSocket clients at `path` on `server`. */
export function attachWebSocket(server: Server, ctx: NodeContext, shared: TransportShared, path = '/ws'): WebSocketEndpoint {
  const { client } = ctx.config;
  const limits = { maxMessageBytes: client.maxMessageBytes, maxFragments: maxFragments(client.maxMessageBytes) };
  const sessions = new Set<Session>();
  const endpoint: Endpoint = { ctx, sessions, traffic: new Traffic(), sampler: shared.sampler };
  const origins = new Set(client.allowedOrigins);
  let handshakes = 0;

  /** Refuse before the handshake, counted by status. */
  function refuse(socket: Duplex, status: number): void {
    ctx.counters.refused('websocket', status);
    socket.end(httpRefusal(status));
  }

  /** The status that refuses this upgrade, or 0 once it is admitted (and counted until its socket closes). */
  function admissionStatus(req: IncomingMessage, socket: Duplex): number {
    const url = req.url ?? '';
    if (url !== path && !url.startsWith(`${path}?`)) return 404;
    if (origins.size > 0 && !origins.has(req.headers.origin ?? '')) return 403;
    if (!ctx.accepting) return 503;
    const address = shared.admission.sourceAddress(req);
    const refusal = shared.admission.admit(address);
    if (refusal) return refusal.status;
    (socket as AdmittedSocket)[ADMITTED] = address;
    socket.on('close', releaseOnClose);
    return 0;
  }

  /** One listener for every socket (a once() wrapper and a closure each were about 200 B of an idle connection). */
  function releaseOnClose(this: AdmittedSocket): void {
    const address = this[ADMITTED];
    if (address === undefined) return;
    this[ADMITTED] = undefined;
    shared.admission.release(address);
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', destroyOnError);
    const status = admissionStatus(req, socket);
    if (status !== 0) return refuse(socket, status);
    // The client already sent a FIN, or the socket went away while it waited.
    if (!socket.readable || !socket.writable) return void socket.destroy();
    const answer = answerHandshake(req.method, req.headers);
    if (!answer.ok) {
      ctx.counters.refused('websocket', answer.status);
      return void socket.end(answer.refusal);
    }
    handshakes++;
    socket.write(answer.response);
    open(req, socket as WsSocket, head);
  });

  /** The handshake is answered: the socket is a WebSocket with a session from here on. */
  function open(req: IncomingMessage, socket: WsSocket, head: Buffer): void {
    socket.removeListener('error', destroyOnError);
    socket.setNoDelay(true);
    const facts = ctx.hooks.requestFacts(req.socket.remoteAddress, req.headers);
    const transport = new WebSocketTransport(socket, endpoint, facts, limits);
    socket[TRANSPORT] = transport;
    sessions.add(transport.session);
    socket.on('data', onSocketData);
    socket.on('end', onSocketEnd);
    socket.on('close', onSocketClose);
    socket.on('error', onSocketError);
    if (head.length > 0) transport.receiver.push(head);
  }

  return {
    sessions,
    handshakes: () => handshakes,
    traffic() {
      const { messagesIn, bytesIn, bytesOut } = endpoint.traffic;
      const live = { messagesIn, bytesIn, bytesOut };
      for (const s of sessions) {
        if (!(s.transport instanceof WebSocketTransport)) continue;
        live.bytesIn += s.transport.socket.bytesRead;
        live.bytesOut += s.transport.socket.bytesWritten;
      }
      return live;
    },
  };
}
