/**
 * One signed POST of a batch to an endpoint, with a timeout. Any 2xx answer
 * is a delivery; anything else (another status, a network error, no answer in
 * time) is a failure to retry. It goes through the same pooled node:http
 * client as the hooks (hooks/http-post.ts), so an endpoint keeps its socket.
 */
import type { KeepAlivePoster } from '../hooks/http-post.js';

export type SendResult = { ok: true; status: number } | { ok: false; status?: number; error: string };

export interface SendOptions {
  url: URL;
  /** The stream's signature headers (format.ts). */
  headers: Record<string, string>;
  timeoutMs: number;
  /** Aborts a request in flight (shutdown). */
  signal?: AbortSignal;
}

export async function send(poster: KeepAlivePoster, body: string, opts: SendOptions): Promise<SendResult> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
  const headers = { 'content-type': 'application/json', 'user-agent': 'tidings-webhooks', ...opts.headers };
  try {
    // Limit 0: the answer's body is not read, only drained (a 2xx is all a delivery needs).
    const { status } = await poster.post(opts.url, headers, body, signal, 0);
    if (status >= 200 && status < 300) return { ok: true, status };
    return { ok: false, status, error: `HTTP ${status}` };
  } catch (err) {
    if (timeout.aborted) return { ok: false, error: `no answer in ${opts.timeoutMs} ms` };
    const e = err as Error & { code?: string };
    return { ok: false, error: e.code ?? e.message };
  }
}
