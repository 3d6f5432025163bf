/**
 * WebSocket transport on `ws`: the upgrade (path and Origin checks), then one
 * Session per socket. `ws` parses and validates incoming frames (masking,
 * UTF-8, size → 1009); outgoing frames bypass its sender and go through our
 * Outbox straight to the socket, framed once per publication.
 */
import type { IncomingMessage, Server } from 'node:http';
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
import { Outbox, type OverflowHandler, type Sink } from './outbox.js';

/** How long a closing socket may take to answer our close frame. */
const CLOSE_GRACE_MS = 3000;

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
        t.onClose();
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
    socket: Sink,
    private readonly endpoint: Endpoint,
    public requestFacts: ConnectFacts | undefined,
  ) {
    this.outbox = new Outbox(socket, endpoint.ctx.config.client.queueMaxBytes, this);
    this.session = new Session(endpoint.ctx, this);
  }

  onMessage(data: Buffer, isBinary: boolean): void {
    // Binary messages carry rpc commands with raw bytes (docs/protocol.md, "Binary payloads").
    if (isBinary) receiveBinary(this.session, data);
    else receiveText(this.session, data.toString());
  }

  onPing(data: Buffer): void {
    if (this.session.onPing() && this.ws.readyState === this.ws.OPEN) this.outbox.push(wsPongFrame(data));
  }

  onClose(): void {
    this.outbox.close();
    this.endpoint.sessions.delete(this.session);
    this.session.onTransportClosed();
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
}

/** Until `ws` takes over the socket, an error on it just ends it. */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

function reject(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export interface WebSocketEndpoint {
  /** Open sessions on this endpoint. */
  readonly sessions: Set<Session>;
  /** Completed WebSocket handshakes since start. */
  readonly handshakes: () => number;
  close(): void;
}

/** Serve WebSocket clients at `path` on `server`. */
export function attachWebSocket(server: Server, ctx: NodeContext, path = '/ws'): WebSocketEndpoint {
  const { client } = ctx.config;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: client.maxMessageBytes,
    perMessageDeflate: false,
    clientTracking: false,
    autoPong: false,
    WebSocket: TidingsSocket,
  });
  const sessions = new Set<Session>();
  const endpoint: Endpoint = { ctx, sessions };
  const origins = new Set(client.allowedOrigins);
  let handshakes = 0;

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', destroyOnError);
    const url = req.url ?? '';
    if (url !== path && !url.startsWith(`${path}?`)) return reject(socket, 404, 'Not Found');
    if (origins.size > 0 && !origins.has(req.headers.origin ?? '')) return reject(socket, 403, 'Forbidden');
    if (!ctx.accepting) return reject(socket, 503, 'Service Unavailable');
    wss.handleUpgrade(req, socket, head, (ws) => {
      handshakes++;
      // `ws` has its own error listener on the socket now.
      socket.removeListener('error', destroyOnError);
      const facts = ctx.hooks.requestFacts(req.socket.remoteAddress, req.headers);
      const transport = new WebSocketTransport(ws as TidingsSocket, socket as unknown as Sink, endpoint, facts);
      (ws as TidingsSocket).transport = transport;
      sessions.add(transport.session);
    });
  });

  return {
    sessions,
    handshakes: () => handshakes,
    close: () => wss.close(),
  };
}
