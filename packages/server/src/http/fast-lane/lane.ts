/**
 * The fast lane in front of node:http for the HTTP API. A publication's own
 * work (checks, history, fan-out) costs less CPU than node:http's request
 * and response objects around it, so plain API requests on keep-alive
 * connections are parsed and answered here, and every other connection or
 * request (WebSocket upgrades, SSE, pages, anything the strict parser in
 * request.ts does not take) goes to node:http with its bytes untouched.
 *
 * Deadlines: a connection whose request is still incomplete after
 * `partialMs` (a client that sends nothing, a slow or large upload) goes to
 * node:http, whose header, request and body-idle deadlines then apply; an
 * idle keep-alive connection is closed after the server's
 * `keepAliveTimeout`, as node:http does.
 */
import { type Server, maxHeaderSize } from 'node:http';
import type { Socket } from 'node:net';
import { type LaneHost, LaneConnection } from './connection.js';
import type { RequestHead, RequestLimits } from './request.js';
import type { UpgradeHead } from './upgrade.js';

/** How long a request may take to arrive whole before node:http takes the connection, unless the deadlines are shorter. */
const PARTIAL_MS = 250;

/**
 * The wait for an incomplete request: 250 ms, or a quarter of the shortest
 * deadline (0: none) if that is less, so node:http's deadlines, which count
 * from the hand-over, are kept within a quarter of what was configured.
 */
export function partialWait(deadlines: number[]): number {
  const shortest = Math.min(...deadlines.filter((ms) => ms > 0));
  return Math.max(10, Math.min(PARTIAL_MS, shortest / 4));
}

export interface FastLaneOptions {
  maxBodyBytes: number;
  /** How long an incomplete request waits here before node:http takes the connection (partialWait). */
  partialMs: number;
  /** The answer to a request: a JSON value, or a promise of one; a refusal throws or rejects (an HttpError). */
  answer(head: RequestHead, body: string): unknown;
  /** Whether a request's answer is known to be small: many such may be pending on one connection (connection.ts). */
  smallAnswer?(head: RequestHead): boolean;
  /** A refusal that was not an HttpError: answered 500, reported here. */
  failed(err: unknown): void;
}

export class FastLane implements LaneHost {
  readonly limits: RequestLimits;
  private readonly connections = new Set<LaneConnection>();
  private readonly nodeListener: (socket: Socket) => void;
  private readonly sweeper: NodeJS.Timeout;

  /** Put the lane in front of `server`: its connections come here first. */
  constructor(
    private readonly server: Server,
    private readonly options: FastLaneOptions,
  ) {
    this.limits = { maxHeadBytes: (server as Server & { maxHeaderSize?: number }).maxHeaderSize ?? maxHeaderSize, maxBodyBytes: options.maxBodyBytes };
    // node:http's own 'connection' listener, which takes a socket from its first byte; emitting 'connection' is its documented way in.
    const [nodeListener] = server.listeners('connection') as Array<(socket: Socket) => void>;
    if (!nodeListener) throw new Error('fast lane: the server has no connection listener');
    server.removeListener('connection', nodeListener);
    this.nodeListener = nodeListener;
    server.on('connection', (socket: Socket) => this.accept(socket));
    this.sweeper = setInterval(() => this.sweep(), options.partialMs / 2).unref();
  }

  get keepAliveSeconds(): number {
    return Math.floor(this.server.keepAliveTimeout / 1000);
  }

  answer(head: RequestHead, body: string): unknown {
    return this.options.answer(head, body);
  }

  failed(err: unknown): void {
    this.options.failed(err);
  }

  smallAnswer(head: RequestHead): boolean {
    return this.options.smallAnswer?.(head) ?? false;
  }

  upgrade(socket: Socket, head: UpgradeHead, rest: Buffer): void {
    // What the upgrade's listener reads of node:http's IncomingMessage, and no more (transport/websocket.ts, pusher/).
    const req = { method: 'GET', url: head.target, headers: head.headers, socket, httpVersion: '1.1' };
    // As node:http leaves it for the listener: neither paused nor flowing, so the WebSocket's 'data' listener starts it.
    (socket as { readableFlowing: boolean | null }).readableFlowing = null;
    this.server.emit('upgrade', req, socket, rest);
  }

  toNode(socket: Socket): void {
    this.nodeListener.call(this.server, socket);
  }

  forget(connection: LaneConnection): void {
    this.connections.delete(connection);
  }

  /** Connections the lane holds now (for tests and the drain). */
  get size(): number {
    return this.connections.size;
  }

  /** The most answer bytes one of its connections holds that the kernel has not taken (what a client that does not read costs). */
  get maxWriteBacklog(): number {
    let most = 0;
    for (const c of this.connections) most = Math.max(most, c.socket.writableLength);
    return most;
  }

  /** Close the connections with nothing half-read or unanswered (the server is closing). */
  closeIdle(): void {
    for (const c of this.connections) if (c.idle) c.socket.destroy();
  }

  closeAll(): void {
    for (const c of this.connections) c.socket.destroy();
    this.connections.clear();
  }

  close(): void {
    clearInterval(this.sweeper);
    this.closeAll();
  }

  private accept(socket: Socket): void {
    const connection = new LaneConnection(socket, this);
    // Until a first request arrives whole, the connection counts as half-read (see sweep).
    connection.partialSince = connection.lastActive;
    this.connections.add(connection);
  }

  private sweep(): void {
    const now = Date.now();
    const keepAlive = this.server.keepAliveTimeout;
    for (const c of this.connections) {
      if (c.partialSince > 0 && now - c.partialSince >= this.options.partialMs) c.giveUp();
      else if (c.idle && keepAlive > 0 && now - c.lastActive >= keepAlive) c.socket.destroy();
    }
  }
}
