/**
 * Prometheus metrics at /metrics (docs/operations.md, "Metrics", lists them).
 * Almost everything is read when scraped: gauges count the open sessions,
 * counters mirror plain numbers the node keeps (hub, NodeCounters, socket byte
 * counters), so the message path pays an increment at most. The two latency
 * histograms are observed once per publication, not per subscriber.
 */
import type { ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Hub } from '../hub/hub.js';
import type { NodeCounters } from '../node/counters.js';
import { FastHistogram } from './fast-histogram.js';

/** Connections, users and subscriptions of one transport, now. */
export interface CensusRow {
  transport: string;
  connections: number;
  users: number;
  subscriptions: number;
}

/** Frames and bytes through one transport since start. */
export interface TrafficRow {
  transport: string;
  messagesIn: number;
  bytesIn: number;
  bytesOut: number;
}

/** Where the metrics read their values; the gateway wires them. */
export interface MetricSources {
  hub: Hub;
  counters: NodeCounters;
  census(): CensusRow[];
  traffic(): TrafficRow[];
  /** Source addresses with an open connection. */
  addresses(): number;
  /** The memory engine's history: bytes in blocks held, and in the steps reserved (absent on Redis). */
  historyMemory?: () => { held: number; reserved: number };
}

type Labels = Record<string, string>;

/** Latency buckets, in seconds: 0.5 ms to 5 s. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** A counter that mirrors growing numbers read at scrape time, one per label set. */
function mirroredCounter(registry: Registry, name: string, help: string, labelNames: string[], read: () => Array<[Labels, number]>): void {
  const seen = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      for (const [labels, now] of read()) {
        const key = JSON.stringify(labels);
        const before = seen.get(key) ?? 0;
        // An increment of 0 still shows the series, so alerts see a 0 rather than nothing.
        this.inc(labels, Math.max(0, now - before));
        seen.set(key, Math.max(now, before));
      }
    },
  });
}

function gauge(registry: Registry, name: string, help: string, labelNames: string[], read: () => Array<[Labels, number]>): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      for (const [labels, value] of read()) this.set(labels, value);
    },
  });
}

/** `"websocket 3008"` keys of NodeCounters as `{transport, code}` labels. */
function byTransportAndCode(map: ReadonlyMap<string, number>): Array<[Labels, number]> {
  return [...map].map(([key, n]) => {
    const [transport = '', code = ''] = key.split(' ');
    return [{ transport, code }, n];
  });
}

export class Metrics {
  readonly registry = new Registry();
  private readonly fanout: FastHistogram;
  private readonly engineLag: FastHistogram;
  private readonly redisRoundTrip: Histogram;

  constructor(private readonly src: MetricSources) {
    const r = this.registry;
    collectDefaultMetrics({ register: r });
    this.connectionGauges();
    this.trafficCounters();
    this.eventCounters();
    // Observed per publication: allocation-free histograms (prom-client's allocate per observe).
    this.fanout = new FastHistogram('tidings_fanout_seconds', "Publish accepted to written to the subscribers' sockets, one sample per publication", LATENCY_BUCKETS, r);
    this.engineLag = new FastHistogram('tidings_engine_lag_seconds', 'Publish accepted to received by this node from the engine (Redis pub/sub lag), one sample per publication with subscribers', LATENCY_BUCKETS, r);
    this.redisRoundTrip = new Histogram({ name: 'tidings_redis_roundtrip_seconds', help: 'Round trip of the node heartbeat write to the engine (every 5 s; Redis engine only)', buckets: LATENCY_BUCKETS, registers: [r] });
  }

  /** During a scrape, one count of the sessions shared by the three gauges that need it. */
  private scraping = false;
  private census?: CensusRow[];

  private rows(): CensusRow[] {
    if (!this.scraping) return this.src.census();
    return (this.census ??= this.src.census());
  }

  private connectionGauges(): void {
    const r = this.registry;
    const { hub } = this.src;
    const census = () => this.rows();
    gauge(r, 'tidings_connections', 'Open client connections', ['transport'], () => census().map((c) => [{ transport: c.transport }, c.connections]));
    gauge(r, 'tidings_users', 'Distinct connected users', ['transport'], () => census().map((c) => [{ transport: c.transport }, c.users]));
    gauge(r, 'tidings_subscriptions', 'Subscriptions of open connections', ['transport'], () => census().map((c) => [{ transport: c.transport }, c.subscriptions]));
    gauge(r, 'tidings_channels', 'Channels with local subscribers', [], () => [[{}, hub.channelCount]]);
    gauge(r, 'tidings_connection_addresses', 'Source addresses with an open connection', [], () => [[{}, this.src.addresses()]]);
    const history = this.src.historyMemory;
    if (history) {
      gauge(r, 'tidings_history_memory_bytes', 'Memory engine history: bytes in blocks held, and in the steps reserved (engine.historyReserveBytes; resident only once used)', ['state'], () => {
        const { held, reserved } = history();
        return [[{ state: 'held' }, held], [{ state: 'reserved' }, reserved]];
      });
    }
  }

  private trafficCounters(): void {
    const r = this.registry;
    const { hub, traffic } = this.src;
    mirroredCounter(r, 'tidings_publications_total', 'Publications fanned out by this node', [], () => [[{}, hub.publications]]);
    mirroredCounter(r, 'tidings_deliveries_total', 'Publications queued to subscribers (messages out)', [], () => [[{}, hub.deliveries]]);
    mirroredCounter(r, 'tidings_messages_received_total', 'Frames received from clients (messages in)', ['transport'], () => traffic().map((t) => [{ transport: t.transport }, t.messagesIn]));
    mirroredCounter(r, 'tidings_received_bytes_total', 'Bytes read from client sockets', ['transport'], () => traffic().map((t) => [{ transport: t.transport }, t.bytesIn]));
    mirroredCounter(r, 'tidings_sent_bytes_total', 'Bytes written to client sockets', ['transport'], () => traffic().map((t) => [{ transport: t.transport }, t.bytesOut]));
  }

  private eventCounters(): void {
    const r = this.registry;
    const c = this.src.counters;
    mirroredCounter(r, 'tidings_recoveries_total', 'Subscriptions that asked to recover, by result', ['result'], () => [
      [{ result: 'recovered' }, c.recovered],
      [{ result: 'failed' }, c.recoveryFailed],
    ]);
    mirroredCounter(r, 'tidings_disconnects_total', 'Ends of connected sessions, by transport and close code (closed: the client went away)', ['transport', 'code'], () => byTransportAndCode(c.disconnects));
    mirroredCounter(r, 'tidings_refusals_total', 'Connection attempts refused, by transport and HTTP status or close code', ['transport', 'code'], () => byTransportAndCode(c.refusals));
    mirroredCounter(r, 'tidings_rate_limited_total', 'Client frames refused by the command rate limit', [], () => [[{}, c.rateLimited]]);
  }

  /** One publication's fan-out: engine lag and time to the sockets, in milliseconds. */
  observeFanout(lagMs: number, writtenMs: number): void {
    this.engineLag.observe(Math.max(0, lagMs) / 1000);
    this.fanout.observe(Math.max(0, writtenMs) / 1000);
  }

  observeRedisRoundTrip(ms: number): void {
    this.redisRoundTrip.observe(ms / 1000);
  }

  async serve(res: ServerResponse): Promise<void> {
    this.scraping = true;
    let text: string;
    try {
      text = await this.registry.metrics();
    } finally {
      this.scraping = false;
      this.census = undefined;
    }
    res.writeHead(200, { 'content-type': this.registry.contentType });
    res.end(text);
  }
}
