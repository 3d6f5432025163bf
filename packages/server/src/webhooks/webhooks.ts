/**
 * The webhooks of one node: listens to the node's event bus, decides the
 * cluster-wide events (tracker.ts), queues each in the outbox of every
 * endpoint that wants it, and runs one delivery loop per endpoint
 * (delivery.ts). Besides the configured endpoints, other streams (a Pusher
 * app's webhooks) may come with their own format (format.ts). Queues are
 * named by the stream's key, so every node, and the same node after a
 * restart, shares them.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type WebhooksConfig, webhookEndpoints } from '../config/webhooks.js';
import type { Engine } from '../engine/engine.js';
import type { EventBus } from '../events/bus.js';
import { Delivery } from './delivery.js';
import type { WebhookEvent } from './event.js';
import { type WebhookEncoding, type WebhookStream, tidingsStream } from './format.js';
import { WebhookMetrics } from './metrics.js';
import { Tracker } from './tracker.js';

interface Target {
  stream: WebhookStream;
  queue: string;
  delivery: Delivery;
  /** Encoded events waiting for this turn's append. */
  pending: string[];
}

export interface WebhooksOptions {
  config: WebhooksConfig;
  engine: Engine;
  events: EventBus;
  registry: Registry;
  log: Logger;
  /** More streams than the configured endpoints (the Pusher apps' webhooks). */
  streams?: readonly WebhookStream[];
}

export class Webhooks {
  private readonly targets: Target[];
  private readonly tracker: Tracker;
  private readonly metrics: WebhookMetrics;
  private flushing = false;

  /** Undefined when no stream is configured: then nothing listens and nothing is paid. */
  static create(opts: WebhooksOptions): Webhooks | undefined {
    const streams = [...webhookEndpoints(opts.config).map(tidingsStream), ...(opts.streams ?? [])];
    return streams.length === 0 ? undefined : new Webhooks(opts, streams);
  }

  private constructor(
    private readonly opts: WebhooksOptions,
    streams: WebhookStream[],
  ) {
    const { engine, config, log } = opts;
    this.metrics = new WebhookMetrics(opts.registry, () => this.depths());
    this.targets = streams.map((stream) => {
      const queue = createHash('sha256').update(stream.queueKey).digest('hex').slice(0, 16);
      const delivery = new Delivery({ stream, queue, outbox: engine.outbox, config, metrics: this.metrics, log });
      return { stream, queue, delivery, pending: [] };
    });
    const wanted = new Set(this.targets.flatMap((t) => [...t.stream.events]));
    this.tracker = new Tracker({
      occupancy: engine.occupancy,
      wanted,
      emit: (e) => this.queue(e),
      lost: (name, err) => {
        log.warn({ err: err.message, event: name }, 'webhook event lost: the engine failed');
        for (const t of this.targets) if (t.stream.events.has(name)) this.metrics.drop(t.stream.label, 'engine', 1);
      },
    });
  }

  /** Call once the engine is started. */
  start(): void {
    const signals = this.targets.some((t) => t.stream.events.has('client_signal'));
    this.opts.events.on((e) => this.tracker.onEvent(e), { signals });
    for (const t of this.targets) t.delivery.start();
  }

  /**
   * Queue what the node's last events decided, then stop delivering: at once
   * when the outbox is durable (what is left waits there for the next node),
   * after delivering what is queued otherwise (within `graceMs`).
   */
  async close(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.tracker.settled(), new Promise((r) => (timer = setTimeout(r, graceMs / 2)))]);
    clearTimeout(timer);
    await this.flush();
    const drain = !this.opts.engine.outbox.durable;
    await Promise.all(this.targets.map((t) => t.delivery.stop(deadline - Date.now(), drain)));
  }

  /** Each encoding writes the event once, for every stream that shares it. */
  private queue(event: WebhookEvent): void {
    const now = Date.now();
    const written = new Map<WebhookEncoding, string | undefined>();
    for (const t of this.targets) {
      if (!t.stream.events.has(event.name)) continue;
      const { encoding } = t.stream;
      if (!written.has(encoding)) written.set(encoding, encoding.encode(event, now));
      const json = written.get(encoding);
      if (json !== undefined) t.pending.push(json);
    }
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => void this.flush());
    }
  }

  /** One append per endpoint for everything decided in this turn, in order. */
  private async flush(): Promise<void> {
    this.flushing = false;
    const { engine, config, log } = this.opts;
    await Promise.all(
      this.targets.map(async (t) => {
        if (t.pending.length === 0) return;
        const items = t.pending.splice(0);
        try {
          const dropped = await engine.outbox.append(t.queue, items, config.outboxMaxEvents);
          if (dropped > 0) {
            log.warn({ endpoint: t.stream.label, dropped, max: config.outboxMaxEvents }, 'webhook outbox full: oldest events dropped');
            this.metrics.drop(t.stream.label, 'outbox_full', dropped);
          }
          t.delivery.notify();
        } catch (err) {
          log.warn({ err: (err as Error).message, endpoint: t.stream.label, events: items.length }, 'webhook events lost: the outbox is unavailable');
          this.metrics.drop(t.stream.label, 'engine', items.length);
        }
      }),
    );
  }

  private depths(): Promise<Array<[string, number]>> {
    return Promise.all(this.targets.map(async (t): Promise<[string, number]> => [t.stream.label, await this.opts.engine.outbox.depth(t.queue)]));
  }
}
