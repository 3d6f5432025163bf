/**
 * The webhooks of one node: listens to the node's event bus, decides the
 * cluster-wide events (tracker.ts), queues each in the outbox of every
 * endpoint that wants it, and runs one delivery loop per endpoint
 * (delivery.ts). Queues are named by the endpoint's URL, so every node, and
 * the same node after a restart, shares them.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type WebhookEndpoint, type WebhookEventName, type WebhooksConfig, webhookEndpoints } from '../config/webhooks.js';
import type { Engine } from '../engine/engine.js';
import type { EventBus } from '../events/bus.js';
import { Delivery } from './delivery.js';
import { type WebhookEvent, encodeEvent } from './event.js';
import { WebhookMetrics } from './metrics.js';
import { Tracker } from './tracker.js';

interface Target {
  endpoint: WebhookEndpoint;
  label: string;
  queue: string;
  wanted: ReadonlySet<WebhookEventName>;
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
}

export class Webhooks {
  private readonly targets: Target[];
  private readonly tracker: Tracker;
  private readonly metrics: WebhookMetrics;
  private flushing = false;

  /** Undefined when no endpoint is configured: then nothing listens and nothing is paid. */
  static create(opts: WebhooksOptions): Webhooks | undefined {
    const endpoints = webhookEndpoints(opts.config);
    return endpoints.length === 0 ? undefined : new Webhooks(opts, endpoints);
  }

  private constructor(
    private readonly opts: WebhooksOptions,
    endpoints: WebhookEndpoint[],
  ) {
    const { engine, config, log } = opts;
    this.metrics = new WebhookMetrics(opts.registry, () => this.depths());
    this.targets = endpoints.map((endpoint) => {
      const label = labelOf(endpoint.url);
      const queue = createHash('sha256').update(endpoint.url).digest('hex').slice(0, 16);
      const delivery = new Delivery({ endpoint, label, queue, outbox: engine.outbox, config, metrics: this.metrics, log });
      return { endpoint, label, queue, wanted: new Set(endpoint.events), delivery, pending: [] };
    });
    const wanted = new Set(this.targets.flatMap((t) => [...t.wanted]));
    this.tracker = new Tracker({
      occupancy: engine.occupancy,
      wanted,
      emit: (e) => this.queue(e),
      lost: (name, err) => {
        log.warn({ err: err.message, event: name }, 'webhook event lost: the engine failed');
        for (const t of this.targets) if (t.wanted.has(name)) this.metrics.drop(t.label, 'engine', 1);
      },
    });
  }

  /** Call once the engine is started. */
  start(): void {
    this.opts.events.on((e) => this.tracker.onEvent(e));
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

  private queue(event: WebhookEvent): void {
    const json = encodeEvent(event);
    for (const t of this.targets) if (t.wanted.has(event.name)) t.pending.push(json);
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
            log.warn({ endpoint: t.label, dropped, max: config.outboxMaxEvents }, 'webhook outbox full: oldest events dropped');
            this.metrics.drop(t.label, 'outbox_full', dropped);
          }
          t.delivery.notify();
        } catch (err) {
          log.warn({ err: (err as Error).message, endpoint: t.label, events: items.length }, 'webhook events lost: the outbox is unavailable');
          this.metrics.drop(t.label, 'engine', items.length);
        }
      }),
    );
  }

  private depths(): Promise<Array<[string, number]>> {
    return Promise.all(this.targets.map(async (t): Promise<[string, number]> => [t.label, await this.opts.engine.outbox.depth(t.queue)]));
  }
}

/** host + path: the query string may carry a key, and has no place in logs. */
function labelOf(url: string): string {
  const u = new URL(url);
  return `${u.host}${u.pathname}`;
}
