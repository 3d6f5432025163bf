/**
 * The Pusher endpoint on the gateway's port: WebSocket upgrades at
 * `/app/{key}` (protocol 7) and the HTTP API at `/apps/{id}/...`. The
 * gateway routes both here when `pusher.apps` is not empty.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { CloseCode } from '@tidings/protocol';
import { httpRefusal } from '../http/refusal.js';
import type { NodeContext } from '../node/context.js';
import type { Session } from '../session/session.js';
import { type PusherApp, PusherApps } from './apps.js';
import { PusherCode } from './codes.js';
import { encodeError } from './frames.js';
import { PusherApi } from './http-api.js';
import { PusherTransport } from './socket.js';

/** Protocol versions whose frames are the ones served here (pusher-js sends 7). */
const PROTOCOLS = new Set(['5', '6', '7']);
const APP_PATH = /^\/app\/([^/?]+)$/;

export interface PusherEndpoint {
  /** Whether an upgrade request is for this endpoint. */
  wants(req: IncomingMessage): boolean;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Whether an HTTP path is the Pusher API's. */
  owns(path: string): boolean;
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
  close(): void;
}

function queryOf(req: IncomingMessage): URLSearchParams {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? '').split('?')[0]!;
}

/** Counts the socket toward the node's caps until it closes; refuses it with the HTTP status otherwise (pusher-js backs off and retries). */
function admitted(admission: Admission, req: IncomingMessage, socket: Duplex): boolean {
  const address = admission.sourceAddress(req);
  const refused = admission.admit(address);
  if (refused) {
    socket.end(httpRefusal(refused.status));
    return false;
  }
  socket.once('close', () => admission.release(address));
  return true;
}

/** Why a socket of `app` may not connect (a Pusher close code and message), or undefined. */
function refusal(ctx: NodeContext, app: PusherApp | undefined, req: IncomingMessage): [number, string] | undefined {
  if (!app) return [PusherCode.UnknownApp, 'no app has this key'];
  const protocol = queryOf(req).get('protocol');
  if (protocol === null) return [PusherCode.NoProtocol, 'the protocol query parameter is missing'];
  if (!PROTOCOLS.has(protocol)) return [PusherCode.UnsupportedProtocol, `protocol ${protocol} is not supported (7 is)`];
  const origins = app.allowedOrigins.length > 0 ? app.allowedOrigins : ctx.config.client.allowedOrigins;
  if (origins.length > 0 && !origins.includes(req.headers.origin ?? '')) return [PusherCode.Unauthorized, 'origin not allowed'];
  if (app.maxConnections > 0 && app.connections >= app.maxConnections) return [PusherCode.OverQuota, 'over the connection quota'];
  return undefined;
}

/** The node's connection caps (transport/admission.ts, a sibling layer this one may not import): what a Pusher upgrade needs of them. */
export interface Admission {
  sourceAddress(req: IncomingMessage): string;
  admit(address: string): { status: number } | undefined;
  release(address: string): void;
}

/** `admission` is the node's (the WebSocket's and SSE's): Pusher sockets count toward the same per-node and per-address caps. */
export function createPusherEndpoint(ctx: NodeContext, sessions: Set<Session>, admission?: Admission): PusherEndpoint {
  const apps = new PusherApps(ctx.config.pusher.apps);
  const api = new PusherApi(ctx, apps);
  const state = { ctx, sessions };
  const wss = new WebSocketServer({ noServer: true, maxPayload: ctx.config.client.maxMessageBytes, perMessageDeflate: false, clientTracking: false });

  function accept(ws: WebSocket, socket: Socket, app: PusherApp): void {
    app.connections++;
    const t = new PusherTransport(ws, socket, app, state);
    sessions.add(t.session);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      // A frame must never take the process down: a failure here is ours, so it is logged and the socket closed.
      try {
        t.onMessage(data, isBinary);
      } catch (err) {
        ctx.log.error({ err, client: t.session.id }, 'pusher frame failed');
        t.session.disconnect(CloseCode.BadRequest, 'internal error');
      }
    });
    ws.on('close', () => t.onClose());
    ws.on('error', (err) => ctx.log.debug({ err: err.message, client: t.session.id }, 'pusher socket error'));
  }

  return {
    wants: (req) => APP_PATH.test(pathOf(req)),
    owns: (path) => path.startsWith('/apps/'),
    handle: (req, res, path) => api.handle(req, res, path),
    upgrade(req, socket, head) {
      socket.on('error', () => socket.destroy());
      if (!ctx.accepting) return void socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      if (admission && !admitted(admission, req, socket)) return;
      const app = apps.withKey(APP_PATH.exec(pathOf(req))![1]!);
      const refused = refusal(ctx, app, req);
      wss.handleUpgrade(req, socket, head, (ws) => {
        // Refusals go over the socket, as pusher:error then a close with the code, so pusher-js knows not to retry.
        if (refused) {
          ws.send(encodeError(...refused));
          return ws.close(...refused);
        }
        accept(ws, socket as Socket, app!);
      });
    },
    close: () => wss.close(),
  };
}
