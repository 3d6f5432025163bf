/**
 * The RPCs in flight on one session. Each call runs its handler under its own
 * AbortController. A generator's yields become chunks (when the client asked
 * for a stream), in order, paced by the connection's outbound queue, and the
 * call ends with exactly one final reply. `cancel` answers the call at once
 * with 115 and fires the handler's signal; nothing the handler produces after
 * that is sent. A handler that throws gets the client an error reply, never
 * more: no handler can take the session or the gateway down.
 */
import { CloseCode, ErrorCode, ProtocolError, type RpcParams } from '@tidings/protocol';
import { sendChunk, sendResult } from './encode.js';
import type { RpcPeer } from './peer.js';
import { RpcError, type RpcContext, type RpcHandler } from './registry.js';
import type { RpcService } from './service.js';

/** A streaming handler waits while the connection's queue is above its pacing limit… */
const PACE_POLL_MS = 5;
/** …and a reader that does not drain it within this time is cut as slow. */
const PACE_MAX_MS = 30_000;

type Stream = AsyncIterator<unknown, unknown> | Iterator<unknown, unknown>;

/** Generators (async or not) stream; anything else, arrays included, is a plain result. */
function isStream(v: unknown): v is Stream {
  if (typeof v !== 'object' || v === null || typeof (v as Stream).next !== 'function') return false;
  return Symbol.asyncIterator in v || Symbol.iterator in v;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class RpcCalls {
  private readonly calls = new Map<number, AbortController>();

  /** The connection calls `abortAll` when it closes. */
  constructor(
    private readonly s: RpcPeer,
    private readonly service: RpcService,
  ) {}

  get size(): number {
    return this.calls.size;
  }

  /** Run `rpc` command `id` until its final reply is sent; a thrown ProtocolError becomes the error reply. */
  async run(id: number, p: RpcParams): Promise<void> {
    const handler = this.service.resolve(p.method);
    if (!handler) throw new ProtocolError(ErrorCode.MethodNotFound, `no RPC method ${p.method}`);
    if (this.calls.has(id)) throw new ProtocolError(ErrorCode.BadRequest, `rpc ${id} is already in flight`);
    if (this.calls.size >= this.service.limits.maxInFlight) throw new ProtocolError(ErrorCode.LimitExceeded, 'too many RPCs in flight');
    const ac = new AbortController();
    this.calls.set(id, ac);
    try {
      const result = await this.invoke(handler, p, ac.signal, id);
      if (!ac.signal.aborted) sendResult(this.s, id, result);
    } catch (err) {
      if (!ac.signal.aborted) throw this.failure(err, p.method);
    } finally {
      if (this.calls.get(id) === ac) this.calls.delete(id);
    }
  }

  /** The client gave up on `id`: answer it now, then tell the handler. Unknown ids are already done. */
  cancel(id: number): void {
    const ac = this.calls.get(id);
    if (!ac) return;
    this.calls.delete(id);
    this.s.replyError(id, { code: ErrorCode.Cancelled, message: 'cancelled' });
    ac.abort(new RpcError(ErrorCode.Cancelled, 'cancelled'));
  }

  abortAll(): void {
    const all = [...this.calls.values()];
    this.calls.clear();
    for (const ac of all) ac.abort(new RpcError(ErrorCode.Unavailable, 'connection closed'));
  }

  private async invoke(handler: RpcHandler, p: RpcParams, signal: AbortSignal, id: number): Promise<unknown> {
    const { s } = this;
    const ctx: RpcContext = { user: s.user, client: s.id, method: p.method, signal };
    if (s.tokenInfo !== undefined) ctx.info = s.tokenInfo;
    const out: unknown = await handler(p.data, ctx);
    return isStream(out) ? this.drain(out, p.stream === true, signal, id) : out;
  }

  /** Pull a generator to its end; its return value is the result. Chunks go out only if asked for. */
  private async drain(it: Stream, stream: boolean, signal: AbortSignal, id: number): Promise<unknown> {
    let done = false;
    try {
      for (;;) {
        const step = await it.next();
        done = step.done === true;
        if (done || signal.aborted) return step.value;
        if (!stream) continue;
        sendChunk(this.s, id, step.value);
        await this.pace(signal);
      }
    } catch (err) {
      done = true; // a generator that threw is finished
      throw err;
    } finally {
      // Cancelled or failed while suspended: let the generator run its own finally blocks.
      if (!done) void Promise.resolve(it.return?.(undefined)).catch(() => {});
    }
  }

  /** Hold a fast producer while the client reads slowly, instead of filling its queue to 3008. */
  private async pace(signal: AbortSignal): Promise<void> {
    const { s } = this;
    const limit = this.service.limits.paceAboveBytes;
    const deadline = Date.now() + PACE_MAX_MS;
    while (s.queuedBytes > limit && !signal.aborted && !s.isClosed) {
      if (Date.now() > deadline) return s.disconnect(CloseCode.Slow, 'slow');
      await sleep(PACE_POLL_MS);
    }
  }

  private failure(err: unknown, method: string): ProtocolError {
    if (err instanceof RpcError) return new ProtocolError(err.code, err.message);
    if (err instanceof ProtocolError) return err;
    this.service.log.warn({ err, method }, 'rpc handler failed');
    return new ProtocolError(ErrorCode.RpcFailed, 'rpc handler failed');
  }
}
