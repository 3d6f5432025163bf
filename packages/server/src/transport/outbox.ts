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
    forgetJoins();
    return;
  }
  if (head >= COMPACT_AT) {
    dirty.splice(0, head);
    head = 0;
  }
  scheduleFlush();
}

/** Frames joined into one buffer, and that buffer. */
interface Join {
  readonly parts: readonly Buffer[];
  readonly bytes: Buffer;
}

/**
 * The last joins used, most recently used first, kept until the round of
 * flushes ends. More than one, because the outboxes of a fan-out are written
 * in the order they were dirtied, and between them come outboxes whose list
 * differs (an SSE stream among WebSockets, a subscriber that also got a frame
 * of its own): with one, each of those would make the next fan-out outbox
 * join the shared list again.
 */
const joins: Join[] = [];
const KEPT_JOINS = 4;

/** `first` and `chunks` as one buffer: a kept join's when they are the same frames (the same objects, in order). */
function joinedFor(first: Buffer, chunks: readonly Buffer[], bytes: number): Buffer {
  for (let i = 0; i < joins.length; i++) {
    const join = joins[i]!;
    if (!sameParts(join.parts, first, chunks)) continue;
    if (i > 0) {
      joins.copyWithin(1, 0, i);
      joins[0] = join;
    }
    return join.bytes;
  }
  const parts = [first, ...chunks];
  const join = { parts, bytes: Buffer.concat(parts, bytes) };
  if (joins.length === KEPT_JOINS) joins.pop();
  joins.unshift(join);
  return join.bytes;
}

function sameParts(parts: readonly Buffer[], first: Buffer, chunks: readonly Buffer[]): boolean {
  if (parts.length !== chunks.length + 1 || parts[0] !== first) return false;
  for (let i = 0; i < chunks.length; i++) if (parts[i + 1] !== chunks[i]) return false;
  return true;
}

function forgetJoins(): void {
  joins.length = 0;
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
   * Write everything queued now, in one write. A fan-out queues the same
   * frames in the same order to each of its subscribers, so most outboxes of
   * a round hold the list the previous one held: those bytes are joined once
   * (`joinedFor`) and the same buffer goes to each socket. A list unlike those
   * kept is joined for itself.
   */
  flush(): void {
    this.queued = false;
    if (this.closed || this.bytes === 0) return;
    const { sink, chunks, first } = this;
    sink.write(chunks.length === 0 ? first! : joinedFor(first!, chunks, this.bytes));
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
