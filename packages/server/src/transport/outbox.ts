/**
 * A connection's bounded outbound queue. Frames pushed during one event-loop
 * turn are written with a single socket write in the check phase of the same
 * turn (setImmediate: no timer delay), because the kernel's per-write cost, not
 * JSON or framing, caps a Node server's fan-out. Bytes queued here plus bytes
 * the socket has not handed to the kernel yet may not pass `limit`: a reader
 * that cannot keep up is cut (onOverflow) instead of growing memory.
 *
 * The queued outboxes are written SLICE at a time, with a poll for I/O between
 * slices: a publication that arrives while a large fan-out is being written
 * joins the outboxes not yet written in this round, instead of waiting for the
 * whole round (and, on Redis, its engine round trip no longer costs a round).
 */

export interface Sink {
  write(data: Buffer): unknown;
  readonly writableLength: number;
  cork?(): void;
  uncork?(): void;
}

/** Told when its outbox overflowed (an interface, not a callback: no closure per connection). */
export interface OverflowHandler {
  onOverflow(): void;
}

const dirty: Outbox[] = [];
/** Outboxes before `head` were flushed in an earlier slice of the current round. */
let head = 0;
let flushScheduled = false;
const SLICE = 128;
/** Past this many flushed entries the array is compacted, so a round that never ends stays bounded. */
const COMPACT_AT = 4096;

function scheduleFlush(): void {
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(flushDirty);
}

function flushDirty(): void {
  flushScheduled = false;
  const end = Math.min(dirty.length, head + SLICE);
  while (head < end) dirty[head++]!.flush();
  if (head === dirty.length) {
    dirty.length = 0;
    head = 0;
    return;
  }
  if (head >= COMPACT_AT) {
    dirty.splice(0, head);
    head = 0;
  }
  scheduleFlush();
}

export class Outbox {
  /** This turn's first frame; `chunks` only from the second on (most turns carry one frame per connection). */
  private first: Buffer | undefined;
  private chunks: Buffer[] = [];
  private bytes = 0;
  private queued = false;
  private closed = false;
  /** Past the limit: the queue was dropped and only the farewell frame is taken. */
  private overflowed = false;

  constructor(
    private readonly sink: Sink,
    private readonly limit: number,
    private readonly owner: OverflowHandler,
  ) {}

  /** Queue bytes for this turn's write. Returns false when the outbox is closed or just overflowed. */
  push(data: Buffer): boolean {
    if (this.closed || this.overflowed) return false;
    if (this.bytes + data.length + this.sink.writableLength > this.limit) {
      // What is queued can no longer reach the reader in time; it recovers from its last position instead.
      this.overflowed = true;
      this.drop();
      this.owner.onOverflow();
      return false;
    }
    this.enqueue(data);
    return true;
  }

  /** The last frame before the close (the `disconnect` push): taken even past the limit, so every close is explained. */
  farewell(data: Buffer): void {
    if (!this.closed) this.enqueue(data);
  }

  private enqueue(data: Buffer): void {
    if (this.first === undefined) this.first = data;
    else this.chunks.push(data);
    this.bytes += data.length;
    if (!this.queued) {
      this.queued = true;
      dirty.push(this);
      scheduleFlush();
    }
  }

  /**
   * Write everything queued now, in one write: corked, so several frames go
   * out as one writev with no copy. Copying them into one buffer instead
   * looked cheaper in a microbenchmark but lost clearly in the fan-out
   * benchmark (bench/RESULTS.md), likely through the garbage of one buffer
   * per socket per turn.
   */
  flush(): void {
    this.queued = false;
    if (this.closed || this.bytes === 0) return;
    const { sink, chunks, first } = this;
    if (chunks.length === 0) sink.write(first!);
    else if (!sink.cork) sink.write(Buffer.concat([first!, ...chunks], this.bytes));
    else {
      sink.cork();
      sink.write(first!);
      for (let i = 0; i < chunks.length; i++) sink.write(chunks[i]!);
      sink.uncork!();
    }
    this.drop();
  }

  private drop(): void {
    this.first = undefined;
    if (this.chunks.length > 0) this.chunks.length = 0;
    this.bytes = 0;
  }

  /** Bytes waiting here and in the socket. */
  get pending(): number {
    return this.bytes + this.sink.writableLength;
  }

  /** Drop what is queued and accept nothing more. */
  close(): void {
    this.closed = true;
    this.drop();
  }
}
