/**
 * The webhooks' Prometheus metrics, on the node's registry (GET /metrics),
 * labelled by endpoint. The outbox depth is read from the engine at scrape time.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export class WebhookMetrics {
  private readonly requests: Counter<'endpoint' | 'outcome'>;
  private readonly latency: Histogram<'endpoint'>;
  private readonly events: Counter<'endpoint'>;
  private readonly dropped: Counter<'endpoint' | 'reason'>;

  constructor(registry: Registry, depths: () => Promise<Array<[label: string, depth: number]>>) {
    const registers = [registry];
    this.requests = new Counter({ name: 'tidings_webhook_requests_total', help: 'Webhook requests by endpoint and outcome (ok, failed)', labelNames: ['endpoint', 'outcome'], registers });
    this.latency = new Histogram({
      name: 'tidings_webhook_request_seconds',
      help: 'Time from sending a webhook request to its answer',
      labelNames: ['endpoint'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.events = new Counter({ name: 'tidings_webhook_events_delivered_total', help: 'Webhook events acknowledged by the endpoint', labelNames: ['endpoint'], registers });
    this.dropped = new Counter({
      name: 'tidings_webhook_events_dropped_total',
      help: 'Webhook events given up: outbox_full (oldest dropped), engine (could not be queued or decided)',
      labelNames: ['endpoint', 'reason'],
      registers,
    });
    new Gauge({
      name: 'tidings_webhook_outbox_depth',
      help: 'Webhook events waiting in the outbox, by endpoint',
      labelNames: ['endpoint'],
      registers,
      async collect() {
        const all = await depths().catch(() => []);
        for (const [endpoint, depth] of all) this.set({ endpoint }, depth);
      },
    });
  }

  observe(endpoint: string, ok: boolean, seconds: number): void {
    this.requests.inc({ endpoint, outcome: ok ? 'ok' : 'failed' });
    this.latency.observe({ endpoint }, seconds);
  }

  delivered(endpoint: string, count: number): void {
    this.events.inc({ endpoint }, count);
  }

  drop(endpoint: string, reason: 'outbox_full' | 'engine', count: number): void {
    this.dropped.inc({ endpoint, reason }, count);
  }
}
