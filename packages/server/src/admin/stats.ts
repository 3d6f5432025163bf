/**
 * Each node publishes its numbers into the reserved channel `_tidings:stats`
 * every `admin.statsInterval`, through the engine like any publication: on
 * Redis every node's message reaches every dashboard, whichever node it is
 * connected to, and the page adds them up. Publications to the channel carry
 * no history. Nothing runs while the dashboard is off.
 */
import type { Logger } from 'pino';
import type { AdminConfig } from '../config/admin.js';
import type { Broker } from '../engine/broker.js';
import type { NodeInfo } from '../engine/nodes.js';
import type { Hub } from '../hub/hub.js';
import { type ChannelCount, TopChannels } from './top-channels.js';

export const STATS_CHANNEL = '_tidings:stats';

/** The counters a node keeps (Gateway.stats()). */
export interface NodeCounters {
  node: NodeInfo;
  subscriptions: number;
  /** Totals since start: publications fanned out by this node, deliveries queued to its clients. */
  publications: number;
  deliveries: number;
}

/** One message on `_tidings:stats` (docs/admin.md). */
export interface StatsMessage extends NodeCounters {
  /** Per second over the last window. */
  publicationRate: number;
  deliveryRate: number;
  /** Busiest channels on this node over the last window, publications per second. */
  topChannels: Array<{ channel: string; rate: number }>;
  time: number;
}

/** The top-K table holds this many counters per channel reported, so the reported ones are right. */
const TABLE_PER_REPORTED = 4;
const NO_HISTORY = { size: 0, ttlMs: 0 };

export class StatsPublisher {
  private readonly top: TopChannels;
  private timer?: NodeJS.Timeout;
  private last?: { at: number; publications: number; deliveries: number };
  /** The stats channel's own traffic, left out of every figure. */
  private readonly own = { publications: 0, deliveries: 0 };

  constructor(
    private readonly cfg: AdminConfig,
    private readonly broker: Broker,
    private readonly counters: () => NodeCounters,
    private readonly log: Logger,
  ) {
    this.top = new TopChannels(cfg.topChannels * TABLE_PER_REPORTED);
  }

  /** Count the hub's publications and start publishing. */
  start(hub: Hub): void {
    hub.countChannel = (channel) => {
      if (channel !== STATS_CHANNEL) return this.top.count(channel);
      this.own.publications++;
      this.own.deliveries += hub.subscriberCount(channel);
    };
    this.snapshot(); // the first window starts now
    this.timer = setInterval(() => void this.tick(), this.cfg.statsInterval);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Build this window's message (and start the next window). */
  snapshot(now = Date.now()): StatsMessage {
    const c = this.withoutOwn(this.counters());
    const prev = this.last ?? { at: now - this.cfg.statsInterval, publications: c.publications, deliveries: c.deliveries };
    const seconds = Math.max(0.001, (now - prev.at) / 1000);
    this.last = { at: now, publications: c.publications, deliveries: c.deliveries };
    const perSecond = (n: number) => Math.round((n / seconds) * 10) / 10;
    return {
      ...c,
      publicationRate: perSecond(c.publications - prev.publications),
      deliveryRate: perSecond(c.deliveries - prev.deliveries),
      topChannels: this.top.take(this.cfg.topChannels).map((t: ChannelCount) => ({ channel: t.channel, rate: perSecond(t.count) })),
      time: now,
    };
  }

  private withoutOwn(c: NodeCounters): NodeCounters {
    return { ...c, publications: c.publications - this.own.publications, deliveries: c.deliveries - this.own.deliveries };
  }

  private async tick(): Promise<void> {
    try {
      await this.broker.publish(STATS_CHANNEL, JSON.stringify(this.snapshot()), { history: NO_HISTORY });
    } catch (err) {
      // The engine is down: the dashboard shows this node as stale; say so once per window at debug level.
      this.log.debug({ err }, 'admin stats not published');
    }
  }
}
