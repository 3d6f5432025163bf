/**
 * WebSocket transport on `ws`: the upgrade (path, Origin and connection limits), then one
 * Session per socket. `ws` parses and validates incoming frames (masking,
 * UTF-8, size → 1009); outgoing frames bypass its sender and go through our
 * Outbox straight to the socket, framed once per publication.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { CloseCode } from '@tidings/protocol';
import type { ConnectFacts } from '../hooks/facts.js';
import type { NodeContext } from '../node/context.js';
import { receiveBinary, receiveText } from '../session/inbound.js';
import { Session } from '../session/session.js';
import type { Transport } from '../session/transport.js';
import type { SharedFrame } from '../wire/shared-frame.js';
import { wsBinaryFrame, wsPongFrame, wsTextFrame } from '../wire/ws-frame.js';
import type { Admission } from './admission.js';
import { Outbox, type OverflowHandler, type Sink } from './outbox.js';
import { type FanoutSampler, Traffic, type TrafficTotals } from './traffic.js';

/** The source address an upgrade was admitted under, kept on its socket until the socket closes. */
const ADMITTED = Symbol('tidings.admittedAddress');
type AdmittedSocket = Duplex & { [ADMITTED]?: string | undefined };

/** How long a closing socket may take to answer our close frame. */
const CLOSE_GRACE_MS = 3000;

/**
 * Fragments one message may come in (more: close 1008). A message counts once
 * against the command rate however many frames carry it, so without a tight
 * cap a client could make the node parse thousands of empty frames per
 * command. One per KiB of the largest message, and never fewer than 64.
 */
function maxFragments(maxMessageBytes: number): number {
  return Math.max(64, Math.ceil(maxMessageBytes / 1024));
}

/**
 * A `ws` socket that hands its events straight to its transport. `ws`
 * reports everything through `emit`; answering there instead of through
 * listeners saves three closures and their context per connection, a share
 * of an idle connection's heap that heap snapshots show (bench/RESULTS.md).
 * Pings are answered here too
 * (autoPong is off), through the bounded outbox and the command rate limit.
 */
class TidingsSocket extends WebSocket {
  transport?: WebSocketTransport;

  override emit(event: string | symbol, a?: unknown, b?: unknown): boolean {
    const t = this.transport;
    if (!t) return event === 'error' || super.emit(event, a, b);
    switch (event) {
      case 'message':
        t.onMessage(a as Buffer, b as boolean);
        return true;
      case 'ping':
        t.onPing(a as Buffer);
        return true;
      case 'close':
        t.onClose(a as number);
        return true;
      case 'error':
        t.onError(a as Error);
        return true;
      default:
        return super.emit(event, a, b);
    }
  }

  /**
   * `ws` answers a client's Close by calling close() itself and writes its
   * Close frame at once: first write what our outbox holds, so a pong owed
   * for an earlier ping (RFC 6455 §5.5.2) or queued data is not lost behind it.
   */
  override close(code?: number, data?: string | Buffer): void {
    this.transport?.outbox.flush();
    super.close(code, data);
  }
}

class WebSocketTransport implements Transport, OverflowHandler {
  readonly kind = 'websocket';
  readonly outbox: Outbox;
  readonly session: Session;

  constructor(
    private readonly ws: TidingsSocket,
    readonly socket: Socket,
    private readonly endpoint: Endpoint,
    public requestFacts: ConnectFacts | undefined,
  ) {
    this.outbox = new Outbox(socket as Sink, endpoint.ctx.config.client.queueMaxBytes, this);
    this.session = new Session(endpoint.ctx, this);
  }

  onMessage(data: Buffer, isBinary: boolean): void {
    this.endpoint.traffic.messagesIn++;
    // Binary messages carry rpc commands with raw bytes (docs/protocol.md, "Binary payloads").
    if (isBinary) receiveBinary(this.session, data);
    else receiveText(this.session, data.toString());
  }

  onPing(data: Buffer): void {
    if (this.session.onPing() && this.ws.readyState === this.ws.OPEN) this.outbox.push(wsPongFrame(data));
  }

  onClose(code: number): void {
    this.outbox.close();
    this.endpoint.sessions.delete(this.session);
    this.endpoint.traffic.add(this.socket.bytesRead, this.socket.bytesWritten);
    this.session.onTransportClosed(code);
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
    this.outbox.flush();
    this.outbox.close();
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(code, reason.slice(0, 120));
    setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  abort(): void {
    this.outbox.close();
    this.ws.terminate();
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

/** Until `ws` takes over the socket, an error on it just ends it. */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

function reject(socket: Duplex, status: number, text: string): void {
  const retry = status === 503 || status === 429 ? 'Retry-After: 1\r\n' : '';
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\n${retry}Content-Length: 0\r\n\r\n`);
}

const STATUS_TEXT: Record<number, string> = { 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 503: 'Service Unavailable' };

export interface WebSocketEndpoint {
  /** Open sessions on this endpoint. */
  readonly sessions: Set<Session>;
  /** Completed WebSocket handshakes since start. */
  readonly handshakes: () => number;
  /** Frames and bytes through this endpoint's sockets, open and closed. */
  traffic(): TrafficTotals;
  close(): void;
}

/** Serve WebSocket clients at `path` on `server`. */
export function attachWebSocket(server: Server, ctx: NodeContext, shared: TransportShared, path = '/ws'): WebSocketEndpoint {
  const { client } = ctx.config;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: client.maxMessageBytes,
    maxFragments: maxFragments(client.maxMessageBytes),
    perMessageDeflate: false,
    clientTracking: false,
    autoPong: false,
    WebSocket: TidingsSocket,
  });
  const sessions = new Set<Session>();
  const endpoint: Endpoint = { ctx, sessions, traffic: new Traffic(), sampler: shared.sampler };
  const origins = new Set(client.allowedOrigins);
  let handshakes = 0;

  /** Refuse before the handshake, counted by status. */
  function refuse(socket: Duplex, status: number): void {
    ctx.counters.refused('websocket', status);
    reject(socket, status, STATUS_TEXT[status] ?? 'Refused');
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
    wss.handleUpgrade(req, socket, head, (ws) => {
      handshakes++;
      // `ws` has its own error listener on the socket now.
      socket.removeListener('error', destroyOnError);
      const facts = ctx.hooks.requestFacts(req.socket.remoteAddress, req.headers);
      const transport = new WebSocketTransport(ws as TidingsSocket, socket as Socket, endpoint, facts);
      (ws as TidingsSocket).transport = transport;
      sessions.add(transport.session);
    });
  });

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
    close: () => wss.close(),
  };
}
