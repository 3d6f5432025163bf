/**
 * RPC proxy: methods with no handler in this process go to an HTTP backend
 * written in any language (config `rpc.proxy`). The gateway POSTs
 * `{method, user, client, info?, data}` (bytes: base64 data and
 * `binary: true`) and relays the NDJSON answer (ndjson.ts) as chunks and the
 * final result. Cancel, the connection closing and `rpc.proxy.timeout` all
 * abort the HTTP request, so the backend sees its caller go away.
 */
import { ErrorCode, asBytes } from '@tidings/protocol';
import { RpcError, type RpcContext, type RpcHandler } from './registry.js';
import { backendError, lines, parseLine } from './ndjson.js';

export interface RpcProxyConfig {
  url: string;
  /** ms for the whole call, first byte to last line. */
  timeout: number;
  /** Only these methods go to the backend (default: every method without a local handler). */
  methods?: string[] | undefined;
  /** Sent with every request, e.g. a key the backend checks. */
  headers?: Record<string, string> | undefined;
}

/** Longest NDJSON line accepted from a backend. */
const MAX_LINE_CHARS = 16 * 1_048_576;
export function proxyHandler(cfg: RpcProxyConfig): RpcHandler {
  return (data, ctx) => call(cfg, data, ctx);
}

async function* call(cfg: RpcProxyConfig, data: unknown, ctx: RpcContext): AsyncGenerator<unknown, unknown> {
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(cfg.timeout)]);
  const body = await request(cfg, data, ctx, signal);
  try {
    for await (const line of lines(body, MAX_LINE_CHARS)) {
      const msg = parseLine(line);
      if ('chunk' in msg) yield msg.chunk;
      else if ('result' in msg) return msg.result;
      else throw msg.error;
    }
  } catch (err) {
    throw failure(err, signal, 'rpc backend connection failed');
  }
  throw new RpcError(ErrorCode.RpcFailed, 'rpc backend ended without a result');
}

async function request(cfg: RpcProxyConfig, data: unknown, ctx: RpcContext, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
  let res: Response;
  try {
    res = await fetch(cfg.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/x-ndjson', ...cfg.headers },
      body: requestBody(data, ctx),
      signal,
    });
  } catch (err) {
    throw failure(err, signal, 'rpc backend unreachable', ErrorCode.Unavailable);
  }
  if (res.ok && res.body) return res.body as unknown as AsyncIterable<Uint8Array>;
  const text = await res.text().catch(() => '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: the status says enough.
  }
  throw backendError(parsed, `rpc backend answered HTTP ${res.status}`);
}

function requestBody(data: unknown, ctx: RpcContext): string {
  const bytes = asBytes(data);
  const body: Record<string, unknown> = { method: ctx.method, user: ctx.user, client: ctx.client };
  if (ctx.info !== undefined) body.info = ctx.info;
  if (bytes) {
    body.data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
    body.binary = true;
  } else {
    body.data = data ?? null;
  }
  return JSON.stringify(body);
}

/** Why the call failed, as the client should hear it. */
function failure(err: unknown, signal: AbortSignal, fallback: string, code: number = ErrorCode.RpcFailed): RpcError {
  if (err instanceof RpcError) return err;
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof RpcError) return reason;
    if ((reason as Error | undefined)?.name === 'TimeoutError') return new RpcError(ErrorCode.RpcFailed, 'rpc backend timed out');
  }
  return new RpcError(code, fallback);
}
