/**
 * Publishing through the gateway's HTTP API, with retries. Every publish gets
 * an idempotency key (yours or a random one), so a retry after a lost answer
 * never publishes twice.
 */
import { randomUUID } from 'node:crypto';

export interface StreamPosition {
  offset: number;
  epoch: string;
}

export interface HttpPublisherOptions {
  /** Gateway base URL, e.g. http://127.0.0.1:7070 */
  url: string;
  apiKey: string;
  /** Retries after a 503, 429 or network error (default 3). */
  retries?: number;
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
}

/** One publication of a batch: to a channel, or to every connection of a user. */
export type BatchItem = { channel: string; data: unknown; idempotencyKey?: string } | { user: string; data: unknown; idempotencyKey?: string };

/** Each item's outcome, in the order given. */
export type BatchResult = StreamPosition | { error: { code: number; message: string } };

export class PublishError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'PublishError';
  }
}

function retryable(err: unknown): boolean {
  if (err instanceof PublishError) return err.status === 503 || err.status === 429 || err.status === 0;
  return true; // network failure or timeout
}

export class HttpPublisher {
  private readonly opts: Required<HttpPublisherOptions>;

  constructor(opts: HttpPublisherOptions) {
    this.opts = { retries: 3, minDelayMs: 100, maxDelayMs: 2000, timeoutMs: 10_000, ...opts };
  }

  publish(channel: string, data: unknown, idempotencyKey: string = randomUUID()): Promise<StreamPosition> {
    return this.post('/api/publish', { channel, data, idempotencyKey });
  }

  publishToUser(user: string, data: unknown, idempotencyKey: string = randomUUID()): Promise<StreamPosition> {
    return this.post('/api/user/publish', { user, data, idempotencyKey });
  }

  broadcast(channels: string[], data: unknown, idempotencyKey: string = randomUUID()) {
    return this.post<{ results: Array<{ channel: string } & Partial<StreamPosition>> }>('/api/broadcast', { channels, data, idempotencyKey });
  }

  /**
   * Many publications in one request (at most 1,000), e.g. the progress of
   * every job a worker runs, once per tick. Items without a key get one, so a
   * retried batch publishes nothing twice.
   */
  async batch(items: BatchItem[]): Promise<BatchResult[]> {
    const publications = items.map((item) => ({ ...item, idempotencyKey: item.idempotencyKey ?? randomUUID() }));
    return (await this.post<{ results: BatchResult[] }>('/api/batch', { publications })).results;
  }

  private async post<T = StreamPosition>(path: string, body: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<T>(path, body);
      } catch (err) {
        if (attempt >= this.opts.retries || !retryable(err)) throw err;
        const ceiling = Math.min(this.opts.maxDelayMs, this.opts.minDelayMs * 2 ** attempt);
        await new Promise((r) => setTimeout(r, this.opts.minDelayMs + Math.random() * (ceiling - this.opts.minDelayMs)));
      }
    }
  }

  private async once<T>(path: string, body: unknown): Promise<T> {
    const res = await fetch(new URL(path, this.opts.url), {
      method: 'POST',
      headers: { authorization: `apikey ${this.opts.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.opts.timeoutMs),
    });
    const text = await res.text();
    if (res.ok) return JSON.parse(text) as T;
    let code: number | undefined;
    let message = text;
    try {
      const parsed = JSON.parse(text) as { error?: { code?: number; message?: string } };
      code = parsed.error?.code;
      message = parsed.error?.message ?? text;
    } catch {}
    throw new PublishError(res.status, code, `publish failed: HTTP ${res.status} ${message}`);
  }
}
