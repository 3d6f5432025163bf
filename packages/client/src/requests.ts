/**
 * The pending-request table: each command sent on the current connection
 * waits here, by id, for its reply, its timeout or its withdrawal. Ids start
 * over with each connection; whatever is still pending when the connection
 * goes fails with ConnectionLost, marked temporary so callers may retry.
 */
import type { ClientFrame, CommandMap, Method, Reply, ResultMap } from '@tidings/protocol';
import { ClientErrorCode, TidingsError } from './errors.js';
import { type Timer, startTimer, stopTimer } from './timers.js';

export type ReplyCallback<R> = (err: TidingsError | null, result?: R) => void;

interface Pending {
  cb: ReplyCallback<unknown>;
  timer?: Timer;
  /** Partial replies of a streamed RPC. */
  onChunk?: (chunk: unknown) => void;
}

export interface RequestTableHost {
  /** Put a frame on the current connection. */
  send(frame: ClientFrame): void;
  /** A command got its reply or was withdrawn: the switch back to the WebSocket may be due now. */
  settled(): void;
  /** A streamed RPC's onChunk threw. */
  listenerError(err: unknown, event: string): void;
}

export class RequestTable {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  /** `timeout`: ms a command waits for its reply unless told otherwise. */
  constructor(
    private readonly timeout: number,
    private readonly host: RequestTableHost,
  ) {}

  /** Commands waiting for their reply. */
  get size(): number {
    return this.pending.size;
  }

  /** A new connection numbers its commands from 1 again. */
  restart(): void {
    this.nextId = 1;
  }

  /**
   * Send a command; `cb` runs synchronously when its reply is read, so replies
   * and the pushes after them are handled in wire order. `timeout` null: none.
   */
  command<M extends Method>(
    method: M,
    params: CommandMap[M],
    cb: ReplyCallback<ResultMap[M]>,
    timeout: number | null = this.timeout,
    onChunk?: (chunk: unknown) => void,
  ): number {
    const id = this.nextId++;
    const p: Pending = { cb: cb as ReplyCallback<unknown> };
    if (onChunk) p.onChunk = onChunk;
    if (timeout !== null) {
      p.timer = startTimer(timeout, () => {
        if (this.pending.delete(id)) cb(new TidingsError(ClientErrorCode.Timeout, `${method} timed out`, true));
      });
    }
    this.pending.set(id, p);
    this.host.send({ id, method, params } as ClientFrame);
    return id;
  }

  onReply(reply: Reply): void {
    const p = this.pending.get(reply.id);
    if (!p) return; // timed out or aborted already
    if (reply.result === undefined && reply.error === undefined && 'chunk' in reply) return this.onChunk(p, reply.chunk);
    this.pending.delete(reply.id);
    stopTimer(p.timer);
    if (reply.error) p.cb(TidingsError.from(reply.error));
    else p.cb(null, reply.result);
    this.host.settled();
  }

  /** Forget a pending command (no reply expected any more). False when it was already settled. */
  drop(id: number): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    this.pending.delete(id);
    stopTimer(p.timer);
    this.host.settled();
    return true;
  }

  /** The connection went: empty the table first, so callbacks that send see it empty, then fail each command. */
  failAll(): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      stopTimer(p.timer);
      p.cb(new TidingsError(ClientErrorCode.ConnectionLost, 'connection lost', true));
    }
  }

  private onChunk(p: Pending, chunk: unknown): void {
    try {
      p.onChunk?.(chunk);
    } catch (err) {
      this.host.listenerError(err, 'rpc onChunk');
    }
  }
}
