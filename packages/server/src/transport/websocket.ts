/**
 * WebSocket transport on `ws`: the upgrade (path and Origin checks), then one
 * Session per socket. `ws` parses and validates incoming frames (masking,
 * UTF-8, size → 1009); outgoing frames bypass its sender and go through our
 * Outbox straight to the socket, framed once per publication.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { CloseCode } from '@tidings/protocol';
import type { NodeContext, Transport } from '../session/context.js';
import { Session } from '../session/session.js';
import { type SharedFrame, wsBinaryFrame, wsTextFrame } from './frame.js';
import { Outbox, type Sink } from './outbox.js';

/** How long a closing socket may take to answer our close frame. */
const CLOSE_GRACE_MS = 3000;

class WebSocketTransport implements Transport {
  readonly kind = 'websocket';
  readonly outbox: Outbox;
  session?: Session;

  constructor(
    private readonly ws: WebSocket,
    socket: Sink,
    limit: number,
  ) {
    this.outbox = new Outbox(socket, limit, () => this.session?.disconnect(CloseCode.Slow, 'slow'));
  }

  sendJson(json: string): void {
    this.outbox.push(wsTextFrame(json));
  }

  sendShared(frame: SharedFrame): void {
    this.outbox.push(frame.wsBytes());
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
  const wss = new WebSocketServer({ noServer: true, maxPayload: client.maxMessageBytes, perMessageDeflate: false, clientTracking: false });
  const sessions = new Set<Session>();
  const origins = new Set(client.allowedOrigins);
  let handshakes = 0;

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = req.url ?? '';
    if (url !== path && !url.startsWith(`${path}?`)) return reject(socket, 404, 'Not Found');
    if (origins.size > 0 && !origins.has(req.headers.origin ?? '')) return reject(socket, 403, 'Forbidden');
    if (!ctx.accepting) return reject(socket, 503, 'Service Unavailable');
    wss.handleUpgrade(req, socket, head, (ws) => {
      handshakes++;
      const transport = new WebSocketTransport(ws, socket as unknown as Sink, client.queueMaxBytes);
      const session = new Session(ctx, transport);
      transport.session = session;
      sessions.add(session);
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        // Binary messages carry rpc commands with raw bytes (docs/protocol.md, "Binary payloads").
        if (isBinary) session.handleBinary(data);
        else session.handleText(data.toString());
      });
      ws.on('error', (err) => ctx.log.debug({ err: err.message, client: session.id }, 'websocket error'));
      ws.on('close', () => {
        transport.outbox.close();
        sessions.delete(session);
        session.onTransportClosed();
      });
    });
  });

  return {
    sessions,
    handshakes: () => handshakes,
    close: () => wss.close(),
  };
}
