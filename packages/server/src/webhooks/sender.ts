/**
 * One signed POST of a batch to an endpoint, with a timeout. Any 2xx answer
 * is a delivery; anything else (another status, a network error, no answer in
 * time) is a failure to retry.
 */

export type SendResult = { ok: true; status: number } | { ok: false; status?: number; error: string };

export interface SendOptions {
  url: string;
  /** The stream's signature headers (format.ts). */
  headers: Record<string, string>;
  timeoutMs: number;
  /** Aborts a request in flight (shutdown). */
  signal?: AbortSignal;
}

export async function send(body: string, opts: SendOptions): Promise<SendResult> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
  try {
    const res = await fetch(opts.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'tidings-webhooks',
        ...opts.headers,
      },
      body,
      signal,
      redirect: 'manual',
    });
    // Read the answer to the end so the keep-alive connection can be reused.
    await res.arrayBuffer().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    return { ok: false, status: res.status, error: `HTTP ${res.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (timeout.aborted) return { ok: false, error: `no answer in ${opts.timeoutMs} ms` };
    return { ok: false, error: e.cause?.code ?? e.message };
  }
}
