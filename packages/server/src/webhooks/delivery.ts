/**
 * Delivery of one endpoint's queue: while this node holds the queue's lease,
 * take a batch from the head of the outbox, POST it, and remove it only once
 * the endpoint answered 2xx (at least once). A failed batch is retried, the
 * same batch with the same id, after a growing, jittered delay; nothing
 * behind it goes first, so events keep their order.
 */
import type { Logger } from 'pino';
import type { WebhooksConfig } from '../config/webhooks.js';
import type { Outbox, OutboxItem } from '../engine/outbox.js';
import { retryDelay } from './backoff.js';
import type { WebhookStream } from './format.js';
import type { WebhookMetrics } from './metrics.js';
import { KeepAlivePoster } from '../hooks/http-post.js';
import { send } from './sender.js';

/** How often the lease holder looks for events other nodes appended. */
const POLL_MS = 250;

export interface DeliveryOptions {
  stream: WebhookStream;
  queue: string;
  outbox: Outbox;
  config: WebhooksConfig;
  metrics: WebhookMetrics;
  log: Logger;
}

interface Batch {
  items: OutboxItem[];
  body: string;
}

export class Delivery {
  private stopped = false;
  /** Shutting down: deliver what is queued, then stop. */
  private draining = false;
  private wake?: () => void;
  private readonly abort = new AbortController();
  private failures = 0;
  private running?: Promise<void>;
  /** One batch in flight at a time: one pooled socket to the endpoint. */
  private readonly poster = new KeepAlivePoster(1);
  private readonly url: URL;

  constructor(private readonly opts: DeliveryOptions) {
    this.url = new URL(opts.stream.url);
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Events were appended on this node: look now rather than at the next poll. */
  notify(): void {
    this.wake?.();
  }

  /**
   * Stop delivering and give the lease up. With `drain`, keep delivering until
   * the queue is empty first (an outbox that dies with the process); either
   * way a request still in flight at `graceMs` is cut.
   */
  async stop(graceMs: number, drain: boolean): Promise<void> {
    const timer = setTimeout(() => this.halt(), Math.max(0, graceMs));
    if (drain) this.draining = true;
    else this.halt();
    this.wake?.();
    await this.running;
    clearTimeout(timer);
    this.poster.close();
    await this.opts.outbox.release(this.opts.queue).catch(() => {});
  }

  private halt(): void {
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
  }

  private async loop(): Promise<void> {
    let batch: Batch | undefined;
    while (!this.stopped) {
      try {
        const { outbox, queue, config } = this.opts;
        if (!(await outbox.lease(queue, config.lease))) {
          batch = undefined; // another node delivers now; it starts from the head
          await this.sleep(config.lease / 3, false);
          continue;
        }
        batch ??= await this.collect();
        if (!batch && this.draining) return;
        if (!batch) {
          await this.sleep(POLL_MS);
          continue;
        }
        if (await this.deliver(batch)) batch = undefined;
      } catch (err) {
        // The engine failed (Redis away): keep the batch, try again later.
        this.opts.log.warn({ err: (err as Error).message, endpoint: this.opts.stream.label }, 'webhook outbox unavailable');
        await this.sleep(retryDelay(++this.failures, this.opts.config.retryMinDelay, this.opts.config.retryMaxDelay), false);
      }
    }
  }

  /** The head of the queue, after letting a young, small batch wait for company up to batchMaxWait. */
  private async collect(): Promise<Batch | undefined> {
    const { outbox, queue, config } = this.opts;
    let items = await outbox.peek(queue, config.batchMaxEvents);
    if (items.length === 0) return undefined;
    const wait = config.batchMaxWait - (Date.now() - timeOf(items[0]!.json));
    if (items.length < config.batchMaxEvents && wait > 0 && !this.draining) {
      await this.sleep(wait, false);
      items = await outbox.peek(queue, config.batchMaxEvents);
      if (items.length === 0) return undefined;
    }
    return { items, body: this.opts.stream.encoding.body(items.map((i) => i.json)) };
  }

  /** POST the batch; true when it is done with (delivered and removed, or the lease was lost). */
  private async deliver(batch: Batch): Promise<boolean> {
    const { stream, outbox, queue, config, metrics, log } = this.opts;
    const { label } = stream;
    const started = process.hrtime.bigint();
    const result = await send(this.poster, batch.body, { url: this.url, headers: stream.sign(batch.body), timeoutMs: config.timeout, signal: this.abort.signal });
    metrics.observe(label, result.ok, Number(process.hrtime.bigint() - started) / 1e9);
    if (result.ok) {
      this.failures = 0;
      metrics.delivered(label, batch.items.length);
      // False: our lease ran out meanwhile, and another node will send these again (at least once).
      await outbox.ack(queue, batch.items.map((i) => i.ref));
      return true;
    }
    if (this.stopped) return true;
    const delay = retryDelay(++this.failures, config.retryMinDelay, config.retryMaxDelay);
    log.warn({ endpoint: label, error: result.error, events: batch.items.length, attempt: this.failures, retryInMs: delay }, 'webhook delivery failed');
    await this.sleep(delay, false);
    return false;
  }

  /** Sleep, cut short by stop() and, when `wakeable` (waiting for events), by local appends. */
  private sleep(ms: number, wakeable = true): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wake === done) delete this.wake;
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (wakeable) this.wake = done;
      else this.wake = () => this.stopped && done();
    });
  }
}

/** The event's `time_ms` (every encoding writes it before any data), or now when unreadable. */
function timeOf(json: string): number {
  const m = /"time_ms":(\d+)/.exec(json);
  return m ? Number(m[1]) : Date.now();
}
