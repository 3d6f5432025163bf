/**
 * How a Redis engine part gets its clients, whatever the topology: one
 * server, a primary followed through Sentinel, or Redis Cluster.
 *
 *   const redis = new RedisConnections(topology, log);
 *   redis.cmd                     // commands, auto-pipelined, routed by key slot on a cluster
 *   redis.pubsub('name', kind)    // a pub/sub link of its own: one connection, or one per cluster primary
 *   await redis.connect();        // then link.connect()
 *
 * Keys of one channel share the `{channel}` hash tag, so a part that keeps
 * its keys per channel (and its MULTI/Lua per channel) works on every
 * topology unchanged. Commands fail fast while Redis is away (no offline
 * queue), so callers answer 503 instead of hanging.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { type PubSubKind, type PubSubLink, ConnectionLink } from './redis-pubsub.js';
import { ClusterShardLink } from './redis-shard-link.js';
import { redactUrl } from './redis-watch.js';

export type RedisTopology =
  | { kind: 'standalone'; url: string }
  /** `url` gives the password, user, TLS and database of the primary. */
  | { kind: 'sentinel'; url: string; sentinels: string[]; name: string }
  /** `url` gives the password, user and TLS of every node. */
  | { kind: 'cluster'; url: string; nodes: string[] };

/** The topology `engine` asks for: cluster seed nodes, else sentinels, else one server at the URL. */
export function redisTopology(config: { engine: { redisUrl: string; redis: { cluster: string[]; sentinels: string[]; name: string } } }): RedisTopology {
  const { redisUrl: url, redis } = config.engine;
  if (redis.cluster.length > 0) return { kind: 'cluster', url, nodes: redis.cluster };
  if (redis.sentinels.length > 0) return { kind: 'sentinel', url, sentinels: redis.sentinels, name: redis.name };
  return { kind: 'standalone', url };
}

/** A command client: either kind answers the same commands. */
export type RedisClient = Redis | Cluster;

/** The engine's connection settings: fail fast, reconnect by itself, resubscribe under our control. */
export const CONNECTION: RedisOptions = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  autoResubscribe: false,
  retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
};

/** Credentials, TLS and database from a redis:// or rediss:// URL. */
export function urlOptions(url: string): RedisOptions {
  const u = new URL(url);
  const opts: RedisOptions = {};
  if (u.username) opts.username = decodeURIComponent(u.username);
  if (u.password) opts.password = decodeURIComponent(u.password);
  const db = Number(u.pathname.slice(1));
  if (u.pathname.length > 1 && Number.isInteger(db)) opts.db = db;
  if (u.protocol === 'rediss:') opts.tls = {};
  return opts;
}

export function hostPort(s: string): { host: string; port: number } {
  const colon = s.lastIndexOf(':');
  return { host: s.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(s.slice(colon + 1)) };
}

/** One client of the topology, with `extra` options on top of the engine's. */
export function newClient(topology: RedisTopology, extra: RedisOptions = {}): RedisClient {
  if (topology.kind === 'standalone') return new Redis(topology.url, { ...CONNECTION, ...extra });
  const auth = urlOptions(topology.url);
  if (topology.kind === 'sentinel') {
    const { tls: _tls, ...primary } = auth;
    const retry = extra.retryStrategy;
    return new Redis({
      ...primary,
      ...CONNECTION,
      ...extra,
      sentinels: topology.sentinels.map(hostPort),
      name: topology.name,
      ...(retry ? { sentinelRetryStrategy: (times: number) => retry(times) ?? null } : {}),
      ...(auth.tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
    });
  }
  const { db: _db, ...nodeAuth } = auth;
  const options: ClusterOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    enableAutoPipelining: extra.enableAutoPipelining ?? false,
    scaleReads: 'master',
    redisOptions: { ...nodeAuth, maxRetriesPerRequest: 1, ...(extra.connectTimeout ? { connectTimeout: extra.connectTimeout } : {}) },
    clusterRetryStrategy: (times) => (extra.retryStrategy ? (extra.retryStrategy(times) ?? null) : Math.min(100 * 2 ** Math.min(times, 5), 2000)),
  };
  return new Cluster(topology.nodes.map(hostPort), options);
}

/** Where the topology is, without passwords, for logs and messages. */
export function describeTopology(t: RedisTopology): string {
  if (t.kind === 'standalone') return redactUrl(t.url);
  if (t.kind === 'sentinel') return `${t.sentinels.join(',')} (sentinels of ${t.name})`;
  return `${t.nodes.join(',')} (cluster seeds)`;
}

export class RedisConnections {
  /** Shared by every part: commands and scripts, auto-pipelined. */
  readonly cmd: RedisClient;
  private readonly links: PubSubLink[] = [];

  constructor(readonly topology: RedisTopology) {
    this.cmd = newClient(topology, { enableAutoPipelining: true });
  }

  get isCluster(): boolean {
    return this.topology.kind === 'cluster';
  }

  /**
   * A pub/sub link of its own. `shard`: channel-scoped messages, sharded pub/sub where the
   * server has it (SSUBSCRIBE routed to the key's primary on a cluster); `broadcast`:
   * classic pub/sub on one server, sharded on a cluster so publishing never costs every node.
   */
  pubsub(kind: PubSubKind): PubSubLink {
    const link: PubSubLink =
      this.topology.kind === 'cluster' ? new ClusterShardLink(this.cmd as Cluster, urlOptions(this.topology.url)) : new ConnectionLink(this.cmd, newClient(this.topology) as Redis, kind);
    this.links.push(link);
    return link;
  }

  async connect(): Promise<void> {
    await this.cmd.connect();
  }

  ready(): boolean {
    return this.cmd.status === 'ready' && this.links.every((l) => l.ready());
  }

  close(): void {
    for (const link of this.links) link.close();
    this.cmd.disconnect();
  }
}
