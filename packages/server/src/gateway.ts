/**
 * A gateway node: wires config, engine, hub, transports and the HTTP API onto
 * one node:http server, and drains it on close. `tidings serve` runs one; an
 * application can embed one with `startGateway`.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloseCode, ErrorCode } from '@tidings/protocol';
import type { Logger } from 'pino';
import { AdminRoutes } from './admin/routes.js';
import { StatsPublisher } from './admin/stats.js';
import { adminTokenKey } from './auth/admin-token.js';
import { TokenVerifier } from './auth/verifier.js';
import { ChannelPolicy } from './channels/policy.js';
import type { Config } from './config/schema.js';
import type { Engine } from './engine/engine.js';
import { MemoryEngine } from './engine/engine-memory.js';
import { RedisEngine } from './engine/engine-redis.js';
import { redisTopology } from './engine/redis-topology.js';
import type { NodeInfo } from './engine/nodes.js';
import { Api } from './http/api.js';
import { refuseClientError } from './http/client-error.js';
import { FastLane, partialWait } from './http/fast-lane/lane.js';
import { HttpError, sendError, sendJson } from './http/json.js';
import { serveLanding } from './http/landing.js';
import { Metrics } from './http/metrics.js';
import { BodyIdleWatch } from './http/request-limits.js';
import { Hooks } from './hooks/hooks.js';
import { Hub } from './hub/hub.js';
import type { NodeContext } from './node/context.js';
import { NodeCounters } from './node/counters.js';
import { createLogger } from './node/logger.js';
import { Deadlines, tickFor } from './node/deadlines.js';
import { type PusherEndpoint, createPusherEndpoint } from './pusher/endpoint.js';
import { pusherNamespaces } from './pusher/names.js';
import { pusherWebhookStreams } from './pusher/webhooks.js';
import type { RpcHandler } from './rpc/registry.js';
import { RpcService } from './rpc/service.js';
import type { Session } from './session/session.js';
import { Admission } from './transport/admission.js';
import { census } from './transport/census.js';
import { type SseEndpoint, createSseEndpoint } from './transport/sse.js';
import { FanoutSampler } from './transport/traffic.js';
import { type WebSocketEndpoint, attachWebSocket } from './transport/websocket.js';
import { Webhooks } from './webhooks/webhooks.js';

/** How often a node refreshes its entry in the shared node registry. */
const HEARTBEAT_MS = 5000;
/** A streamed RPC pauses while its connection's outbound queue is above this share of `client.queueMaxBytes`. */
const RPC_PACE_SHARE = 0.5;

export interface GatewayOptions {
  config: Config;
  /** Defaults to the embedded memory engine. */
  engine?: Engine;
  logger?: Logger;
}

export class Gateway {
  readonly id = randomBytes(6).toString('base64url');
  readonly ctx: NodeContext;
  private readonly server: Server;
  private readonly ws: WebSocketEndpoint;
  private readonly sse: SseEndpoint;
  private readonly pusher?: PusherEndpoint;
  private readonly api: Api;
  /** Absent when `api.fastLane` is off. */
  private readonly lane?: FastLane;
  private readonly metrics: Metrics;
  private readonly admission: Admission;
  private readonly bodyIdle: BodyIdleWatch;
  private readonly webhooks?: Webhooks;
  private readonly admin: AdminRoutes;
  private readonly adminStats?: StatsPublisher;
  private closing?: Promise<void>;
  private heartbeat?: NodeJS.Timeout;
  private readonly startedAt = Date.now();

  constructor(opts: GatewayOptions) {
    const { config } = opts;
    const log = opts.logger ?? createLogger({ level: config.log.level, base: { node: this.id } });
    const engine = opts.engine ?? createEngine(config, log);
    this.ctx = {
      config,
      engine,
      hub: new Hub(engine.broker),
      verifier: new TokenVerifier(config.token, config.admin.secret ? adminTokenKey(config.admin.secret) : undefined),
      policy: new ChannelPolicy({ ...pusherNamespaces(config.pusher.apps), ...config.namespaces }, config.strictNamespaces),
      rpc: new RpcService(
        { maxInFlight: config.rpc.maxInFlight, paceAboveBytes: config.client.queueMaxBytes * RPC_PACE_SHARE },
        log,
        config.rpc.proxy,
      ),
      hooks: new Hooks(config.hooks, log),
      log,
      accepting: true,
      deadlines: new Deadlines(tickFor(config.client.pingInterval, config.client.pongTimeout, config.client.connectTimeout), (err) =>
        log.error({ err }, 'session deadline failed'),
      ),
      disconnects: new Map(),
      counters: new NodeCounters(),
    };
    this.server = createServer(httpTimeouts(config), (req, res) => this.onRequest(req, res));
    // Malformed requests and header or request timeouts: a status that names it, then the socket is closed.
    this.server.on('clientError', refuseClientError);
    this.admission = new Admission(config.limits);
    this.bodyIdle = new BodyIdleWatch(config.limits.bodyIdleTimeout);
    this.metrics = new Metrics({
      hub: this.ctx.hub,
      counters: this.ctx.counters,
      census: () => census(this.ws.sessions),
      traffic: () => [{ transport: 'websocket', ...this.ws.traffic() }, { transport: 'sse', ...this.sse.traffic() }],
      addresses: () => this.admission.addresses,
      ...(engine instanceof MemoryEngine && { historyMemory: () => engine.broker.historyMemory }),
    });
    this.ctx.hooks.metrics.registerOn(this.metrics.registry);
    this.webhooks = Webhooks.create({
      config: config.webhooks,
      engine,
      events: this.ctx.hub.events,
      registry: this.metrics.registry,
      log,
      streams: pusherWebhookStreams(config.pusher.apps),
    });
    const shared = { admission: this.admission, sampler: new FanoutSampler(this.metrics) };
    // Upgrades for the Pusher endpoint go there; every other one to the WebSocket endpoint, which sees only those.
    const upgrades = new EventEmitter();
    this.server.on('upgrade', (req, socket, head) => {
      if (this.pusher?.wants(req)) this.pusher.upgrade(req, socket, head);
      else upgrades.emit('upgrade', req, socket, head);
    });
    this.ws = attachWebSocket(upgrades as unknown as Server, this.ctx, shared);
    if (config.pusher.apps.length > 0) this.pusher = createPusherEndpoint(this.ctx, this.ws.sessions, this.admission);
    // SSE sessions join the WebSocket's set, so counts, stats and the drain cover both transports.
    this.sse = createSseEndpoint(this.ctx, this.id, this.ws.sessions, shared);
    this.ctx.hub.controlListeners.push((msg) => this.sse.onControl(msg));
    this.api = new Api(this.ctx, () => {
      const { disconnects, publications, deliveries } = this.stats();
      return { ...this.nodeInfo(), disconnects, publications, deliveries };
    });
    if (config.api.fastLane) this.lane = this.fastLane();
    this.admin = new AdminRoutes(this.ctx, config.admin);
    if (config.admin.secret) this.adminStats = new StatsPublisher(config.admin, engine.broker, () => this.adminCounters(), log);
  }

  /** The HTTP fast lane in front of node:http: plain API requests with the same routes, and WebSocket upgrades. */
  private fastLane(): FastLane {
    const { headersTimeout, requestTimeout, bodyIdleTimeout } = this.ctx.config.limits;
    return new FastLane(this.server, {
      maxBodyBytes: this.ctx.config.api.maxBodyBytes,
      partialMs: partialWait([headersTimeout, requestTimeout, bodyIdleTimeout]),
      answer: (head, body) => this.api.answer(head.method, pathOf(head.target), head.authorization, body),
      // A publish answers with its position (or an error): a few dozen bytes.
      smallAnswer: (head) => head.method === 'POST' && isPublishTarget(head.target),
      failed: (err) => this.ctx.log.error({ err }, 'request failed'),
    });
  }

  /** What this node reports to the admin dashboard each second. */
  private adminCounters() {
    let subscriptions = 0;
    for (const s of this.ws.sessions) subscriptions += s.subs.size;
    const { publications, deliveries } = this.ctx.hub;
    return { node: this.nodeInfo(), subscriptions, publications, deliveries };
  }

  /** Start the engine, then listen. Resolves with the bound port. */
  async listen(port = this.ctx.config.port, host = this.ctx.config.host): Promise<number> {
    await this.ctx.engine.start(this.ctx.hub);
    this.webhooks?.start();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      // A deep accept queue: after a node dies, its clients all reconnect at once, and dropped SYNs cost 1–3 s each.
      this.server.listen({ port, host, backlog: this.ctx.config.backlog }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.startHeartbeat();
    this.adminStats?.start(this.ctx.hub);
    return this.port;
  }

  /** What this node says about itself in the registry and in /api/info. */
  nodeInfo(): NodeInfo {
    const { hub } = this.ctx;
    return {
      id: this.id,
      address: `${this.ctx.config.host}:${this.port}`,
      connections: this.ws.sessions.size,
      users: hub.userCount,
      channels: hub.channelCount,
      uptime: Math.round((Date.now() - this.startedAt) / 1000),
      updated: Date.now(),
    };
  }

  private startHeartbeat(): void {
    const { nodes } = this.ctx.engine;
    const redis = this.ctx.config.engine.type === 'redis';
    const beat = () => {
      const start = performance.now();
      nodes.announce(this.nodeInfo()).then(() => redis && this.metrics.observeRedisRoundTrip(performance.now() - start), () => {});
    };
    beat();
    this.heartbeat = setInterval(beat, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Register an RPC method clients can call with `client.rpc(method, data)`. */
  rpc(method: string, handler: RpcHandler): void {
    this.ctx.rpc.register(method, handler);
  }

  /** Publish from the embedding process, as the HTTP API would. */
  async publish(channel: string, data: unknown, idempotencyKey?: string) {
    // Async, so a refusal (unknown namespace, engine away) is a rejection here too.
    return this.api.publishOne(channel, JSON.stringify(data), idempotencyKey);
  }

  get connections(): number {
    return this.ws.sessions.size;
  }

  /** Open sessions (read-only view, for operators' tooling and fault tests). */
  sessions(): Iterable<Session> {
    return this.ws.sessions.values();
  }

  /** Counters for operators and tests. */
  stats() {
    let maxQueuedBytes = 0;
    for (const s of this.ws.sessions) maxQueuedBytes = Math.max(maxQueuedBytes, s.transport.queuedBytes);
    return {
      connections: this.ws.sessions.size,
      handshakes: this.ws.handshakes(),
      /** SSE streams opened (the SSE counterpart of handshakes). */
      sseStreams: this.sse.streams(),
      disconnects: Object.fromEntries(this.ctx.disconnects) as Record<number, number>,
      maxQueuedBytes,
      /** The most HTTP answer bytes one fast-lane connection holds unsent (a client not reading them). */
      maxApiBacklogBytes: this.lane?.maxWriteBacklog ?? 0,
      publications: this.ctx.hub.publications,
      deliveries: this.ctx.hub.deliveries,
    };
  }

  /** Not async: the API's publish answers without a promise of ours per request (the publish path's garbage). */
  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const path = pathOf(req.url);
    this.bodyIdle.watch(req, res);
    try {
      this.route(req, res, path)?.catch((err: unknown) => this.requestFailed(res, err, path));
    } catch (err) {
      this.requestFailed(res, err, path);
    }
  }

  /** Answer `req`; a route that answers later returns its promise. */
  private route(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> | void {
    if (path.startsWith('/api/')) return this.api.handle(req, res, path);
    if (path === '/sse' || path.startsWith('/sse/')) return this.sse.handle(req, res, path);
    if (path === '/admin' || path.startsWith('/admin/')) return this.admin.handle(req, res, path);
    if (this.pusher?.owns(path)) return this.pusher.handle(req, res, path);
    if (req.method !== 'GET') throw new HttpError(404, ErrorCode.MethodNotFound, `no route ${req.method} ${path}`);
    if (path === '/') return serveLanding(req, res, this.nodeInfo(), this.ctx.accepting && this.ctx.engine.ready(), this.ctx.config);
    if (path === '/health') return sendJson(res, 200, { status: 'ok' });
    if (path === '/ready') return this.ready(res);
    if (path === '/metrics') return this.metrics.serve(res);
    throw new HttpError(404, ErrorCode.MethodNotFound, `no route GET ${path}`);
  }

  private requestFailed(res: ServerResponse, err: unknown, path: string): void {
    if (err instanceof HttpError) return sendError(res, err);
    this.ctx.log.error({ err, path }, 'request failed');
    if (!res.headersSent) sendError(res, new HttpError(500, ErrorCode.Internal, 'internal error'));
  }

  private ready(res: ServerResponse): void {
    const ok = this.ctx.accepting && this.ctx.engine.ready();
    sendJson(res, ok ? 200 : 503, { ready: ok, engine: this.ctx.engine.ready(), accepting: this.ctx.accepting });
  }

  /**
   * Graceful drain: stop accepting, tell every client to reconnect elsewhere
   * (3001, in batches), then close the engine. Whatever is still open after
   * the timeout is cut.
   */
  close(timeoutMs = this.ctx.config.shutdown.timeout): Promise<void> {
    this.closing ??= this.drain(timeoutMs);
    return this.closing;
  }

  /** Tell every client to reconnect, `batch` per tick so the event loop keeps breathing. */
  private async disconnectAll(batch: number): Promise<void> {
    const all = [...this.ws.sessions];
    for (let i = 0; i < all.length; i += batch) {
      for (const s of all.slice(i, i + batch)) s.disconnect(CloseCode.Shutdown, 'shutdown');
      await new Promise((r) => setImmediate(r));
    }
  }

  private async drain(timeoutMs: number): Promise<void> {
    this.ctx.accepting = false;
    clearInterval(this.heartbeat);
    this.adminStats?.stop();
    const deadline = Date.now() + timeoutMs;
    const serverClosed = new Promise<void>((r) => this.server.close(() => r()));
    this.lane?.closeIdle();
    await this.disconnectAll(this.ctx.config.shutdown.batchSize);
    while (this.ws.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.server.closeAllConnections();
    this.lane?.close();
    this.pusher?.close();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now()))));
    await Promise.race([serverClosed, timeout]);
    clearTimeout(timer);
    this.ctx.deadlines.close();
    this.bodyIdle.close();
    this.ctx.hooks.close();
    await this.webhooks?.close(Math.max(1000, deadline - Date.now()));
    await this.ctx.engine.close();
  }
}

/** The request's path, without its query (no array per request, as split() made). */
/** `/api/publish`, with or without a query, compared in place (the lane asks once per pending request). */
function isPublishTarget(target: string): boolean {
  const n = PUBLISH_PATH.length;
  return target.startsWith(PUBLISH_PATH) && (target.length === n || target[n] === '?');
}
const PUBLISH_PATH = '/api/publish';

function pathOf(url = '/'): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** node:http's header and whole-request deadlines, checked often enough to be kept within a tenth. */
function httpTimeouts(config: Config) {
  const { headersTimeout, requestTimeout } = config.limits;
  const shortest = Math.min(...[headersTimeout, requestTimeout].filter((ms) => ms > 0));
  return { headersTimeout, requestTimeout, connectionsCheckingInterval: Number.isFinite(shortest) ? Math.max(100, shortest / 10) : 30_000 };
}

/** The engine the configuration asks for. */
export function createEngine(config: Config, log: Logger): Engine {
  const { engine } = config;
  if (engine.type === 'memory') return new MemoryEngine({ idempotencyWindowMs: config.idempotencyWindow, historyReserveBytes: engine.historyReserveBytes });
  return new RedisEngine({
    url: engine.redisUrl,
    topology: redisTopology(config),
    waitReplicas: engine.redis.waitReplicas,
    waitTimeoutMs: engine.redis.waitTimeout,
    prefix: engine.prefix,
    presenceTtlMs: engine.presenceTtl,
    idempotencyWindowMs: config.idempotencyWindow,
    log,
  });
}

/** Create a gateway and start listening. */
export async function startGateway(opts: GatewayOptions & { port?: number; host?: string }): Promise<Gateway> {
  const gw = new Gateway(opts);
  await gw.listen(opts.port, opts.host);
  return gw;
}
