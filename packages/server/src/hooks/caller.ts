/**
 * The HTTP side of every hook: a signed JSON POST with a timeout per attempt,
 * retries with jittered exponential backoff (after a timeout, a network error,
 * HTTP 429 or 5xx; never after an answer), and a node-wide bound on calls in
 * flight and waiting. A call never waits for a slot longer than its own
 * timeout, and a full queue fails at once: a stuck backend costs callers a
 * refusal, never memory.
 */
import type { HookCallConfig } from '../config/hooks.js';
import { AnswerTooLarge, KeepAlivePoster } from './http-post.js';
import { newRequestId, signedHeaders } from './signing.js';

/** Largest answer body read from a backend. */
export const MAX_ANSWER_BYTES = 1_048_576;

export type FailureReason = 'timeout' | 'unreachable' | 'status' | 'overloaded';

export class HookFailure extends Error {
  constructor(
    readonly reason: FailureReason | 'answer',
    message: string,
  ) {
    super(message);
  }
}

export interface CallerOptions {
  secret: string;
  headers: Record<string, string>;
  maxConcurrency: number;
  maxQueue: number;
}

/** Counts attempts after the first, for metrics. */
export type OnRetry = () => void;

export class HookCaller {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly poster: KeepAlivePoster;
  private readonly urls = new Map<string, URL>();

  constructor(private readonly opts: CallerOptions) {
    this.poster = new KeepAlivePoster(opts.maxConcurrency);
  }

  /** POST `body` to the hook; resolves with the answer's text (2xx only). */
  async post(hook: HookCallConfig, name: string, body: string, onRetry: OnRetry): Promise<string> {
    const id = newRequestId();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(hook, name, id, body);
      } catch (err) {
        if (!(err instanceof RetryableFailure) || attempt >= hook.retries) throw asFailure(err);
        onRetry();
        await sleep(backoff(hook.retryBackoff, attempt));
      }
    }
  }

  private async attempt(hook: HookCallConfig, name: string, id: string, body: string): Promise<string> {
    const signal = AbortSignal.timeout(hook.timeout);
    await this.acquire(signal);
    try {
      return await send(this.poster, this.urlOf(hook.url), this.headers(name, id, body), body, signal);
    } finally {
      this.release();
    }
  }

  private urlOf(url: string): URL {
    let parsed = this.urls.get(url);
    if (!parsed) this.urls.set(url, (parsed = new URL(url)));
    return parsed;
  }

  /** Drops the pooled sockets to the backends. */
  close(): void {
    this.poster.close();
  }

  private headers(name: string, id: string, body: string): Record<string, string> {
    return { ...this.opts.headers, 'content-type': 'application/json', 'tidings-hook': name, ...signedHeaders(this.opts.secret, id, body) };
  }

  private acquire(signal: AbortSignal): Promise<void> {
    if (this.running < this.opts.maxConcurrency) {
      this.running++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.opts.maxQueue) return Promise.reject(new HookFailure('overloaded', 'too many hook calls waiting'));
    return new Promise((resolve, reject) => {
      const go = () => {
        signal.removeEventListener('abort', giveUp);
        this.running++;
        resolve();
      };
      const giveUp = () => {
        const i = this.waiting.indexOf(go);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new RetryableFailure('timeout', 'timed out waiting for a free hook slot'));
      };
      signal.addEventListener('abort', giveUp, { once: true });
      this.waiting.push(go);
    });
  }

  private release(): void {
    this.running--;
    this.waiting.shift()?.();
  }
}

/** A failure worth another attempt. */
class RetryableFailure extends HookFailure {}

function asFailure(err: unknown): HookFailure {
  if (err instanceof RetryableFailure) return new HookFailure(err.reason, err.message);
  if (err instanceof HookFailure) return err;
  return new HookFailure('unreachable', `hook backend unreachable (${(err as Error).message})`);
}

async function send(poster: KeepAlivePoster, url: URL, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<string> {
  let answer;
  try {
    answer = await poster.post(url, headers, body, signal, MAX_ANSWER_BYTES);
  } catch (err) {
    if (err instanceof AnswerTooLarge) throw new HookFailure('answer', `hook ${err.message}`);
    throw transportFailure(err, signal);
  }
  const { status } = answer;
  if (status === 429 || status >= 500) throw new RetryableFailure('status', `hook backend answered HTTP ${status}`);
  if (status < 200 || status > 299) throw new HookFailure('status', `hook backend answered HTTP ${status}`);
  return answer.text;
}

function transportFailure(err: unknown, signal: AbortSignal): HookFailure {
  if (signal.aborted) return new RetryableFailure('timeout', 'hook backend timed out');
  return new RetryableFailure('unreachable', `hook backend unreachable (${(err as Error).message})`);
}

/** `base · 2^attempt`, jittered to 50–100 % so retries from many sessions spread out. */
export function backoff(baseMs: number, attempt: number): number {
  return baseMs * 2 ** attempt * (0.5 + Math.random() / 2);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
