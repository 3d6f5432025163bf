/**
 * One channel's history in memory: a ring of publications bounded by count
 * and age, with the stream's epoch and top offset.
 *
 * An entry is the publication's text (engine/publication-text.ts, the same
 * text its subscribers were sent), kept as UTF-8 bytes in one buffer per
 * stream, outside the JS heap, with its time, where its bytes sit and where
 * its data and info sit in its text in one typed array (FIELDS numbers per
 * slot). Both are blocks of the broker's arena (broker-memory-arena.ts), given
 * back when they are outgrown or the history expires. Kept on the heap, as
 * objects and later as one string each, the history was what made the old
 * generation grow: with thousands of busy channels every full collection
 * marked it again, and on one core those collections stopped the event loop
 * long enough to set the p99 (bench/RESULTS.md). Offsets are dense, so they
 * are not stored: the oldest entry is `top - length + 1`. Publications read
 * back are rebuilt from the text, with the text as their cached frame, so
 * recovery encodes nothing.
 */
import type { HistoryPolicy, ServerPublication } from './broker.js';
import type { HistoryArena } from './broker-memory-arena.js';
import { SPAN_FIELDS, publicationText } from './publication-text.js';

/** The buffers of a stream that keeps nothing (now), shared: most channels never publish (memory per idle channel). */
const NO_BYTES = Buffer.alloc(0);
const NO_FIELDS = new Float64Array(0);
/** Per slot: the time, the text's spans (publication-text.ts), then where its bytes start and how many. */
const FIELDS = 1 + SPAN_FIELDS + 2;
const BYTE_START = 1 + SPAN_FIELDS;
const BYTE_LENGTH = BYTE_START + 1;
/** The first slots and bytes of a stream that keeps something. */
const FIRST_CAPACITY = 16;
const FIRST_BYTES = 1024;

const LOADED_AT = Date.now();
function secondsNow(now: number): number {
  return Math.floor((now - LOADED_AT) / 1000);
}

export class MemoryStream {
  constructor(
    readonly epoch: string,
    private readonly arena: HistoryArena,
  ) {}

  top = 0;
  /** Seconds since LOADED_AT: a small integer, where a ms timestamp would be a boxed double per stream. */
  private activeAt = secondsNow(Date.now());
  /** How long publications are kept (the channel's history policy, updated on use). */
  ttlMs = 0;
  /** The entries' bytes: a ring of whole records, each in one piece (a record that does not fit before the end starts at 0). */
  private bytes: Buffer = NO_BYTES;
  /** Where the next record's bytes go. */
  private writeAt = 0;
  /** FIELDS per slot: its publication's time, where data and info sit in its text, where its bytes are. */
  private fields: Float64Array = NO_FIELDS;
  private head = 0;
  private length = 0;

  /** Append `pub` (its offset must be top+1) and trim to the policy. Sets `pub.encoded`, the text kept. */
  append(pub: ServerPublication, policy: HistoryPolicy, now: number): void {
    this.top = pub.offset;
    this.activeAt = secondsNow(now);
    if (policy.size <= 0) return;
    if (this.length === this.slots) this.grow(policy.size);
    if (this.length === this.slots) this.dropOldest();
    const slot = (this.head + this.length) % this.slots;
    const at = slot * FIELDS;
    const text = publicationText(pub, this.fields, at + 1);
    const size = Buffer.byteLength(text);
    const start = this.placeFor(size);
    this.bytes.write(text, start, size, 'utf8');
    this.writeAt = start + size;
    this.fields[at] = pub.time;
    this.fields[at + BYTE_START] = start;
    this.fields[at + BYTE_LENGTH] = size;
    this.length++;
    while (this.length > policy.size) this.dropOldest();
    this.trimAge(now - policy.ttlMs);
  }

  /** Drop publications older than `cutoff` (ms timestamp). */
  trimAge(cutoff: number): void {
    if (this.length === 0) return;
    while (this.length > 0 && this.fields[this.head * FIELDS]! < cutoff) this.dropOldest();
    if (this.length === 0) this.giveBack();
  }

  /** All expired: a channel whose history expired holds no blocks. */
  private giveBack(): void {
    if (this.bytes !== NO_BYTES) this.arena.release(this.bytes);
    if (this.fields !== NO_FIELDS) this.arena.release(this.fields);
    this.bytes = NO_BYTES;
    this.fields = NO_FIELDS;
    this.head = 0;
  }

  /** Milliseconds since the last publication (or creation), at `now`. */
  idleFor(now: number): number {
    return now - (LOADED_AT + this.activeAt * 1000);
  }

  get size(): number {
    return this.length;
  }

  /** Publications of `channel` (this stream's) with offset > sinceOffset, oldest first, at most `limit`. */
  after(channel: string, sinceOffset: number, limit: number): ServerPublication[] {
    const out: ServerPublication[] = [];
    if (this.length === 0 || limit <= 0) return out;
    const oldest = this.top - this.length + 1;
    // Offsets in the buffer are dense, so the start index is arithmetic.
    const skip = Math.max(0, sinceOffset + 1 - oldest);
    for (let i = skip; i < this.length && out.length < limit; i++) out.push(this.publicationAt(channel, (this.head + i) % this.slots, oldest + i));
    return out;
  }

  /** The publication kept in `slot`, rebuilt from its text. */
  private publicationAt(channel: string, slot: number, offset: number): ServerPublication {
    const f = this.fields;
    const at = slot * FIELDS;
    const start = f[at + BYTE_START]!;
    const text = this.bytes.toString('utf8', start, start + f[at + BYTE_LENGTH]!);
    const pub: ServerPublication = { channel, offset, epoch: this.epoch, data: text.slice(f[at + 1]!, f[at + 2]!), time: f[at]!, encoded: text };
    if (f[at + 3]! >= 0) pub.info = JSON.parse(text.slice(f[at + 3]!, f[at + 4]!)) as ServerPublication['info'];
    return pub;
  }

  /** Slots in the ring. */
  private get slots(): number {
    return this.fields.length / FIELDS;
  }

  private grow(max: number): void {
    const cap = this.slots;
    if (cap >= max) return;
    const next = Math.min(max, Math.max(FIRST_CAPACITY, cap * 2));
    const fields = this.arena.floats(next * FIELDS);
    for (let i = 0; i < this.length; i++) {
      const from = (this.head + i) % cap;
      fields.set(this.fields.subarray(from * FIELDS, (from + 1) * FIELDS), i * FIELDS);
    }
    if (this.fields !== NO_FIELDS) this.arena.release(this.fields);
    this.fields = fields;
    this.head = 0;
  }

  /**
   * Where a record of `size` bytes goes: after the newest, or at 0 when it
   * does not fit before the end, as long as it stays clear of the oldest;
   * otherwise the buffer grows (the count and age limits decide what is
   * dropped, never the bytes).
   */
  private placeFor(size: number): number {
    if (this.length === 0) {
      this.writeAt = 0;
      if (this.bytes.length < size) this.replaceBytes(this.arena.bytes(Math.max(FIRST_BYTES, size)));
      return 0;
    }
    const oldest = this.fields[this.head * FIELDS + BYTE_START]!;
    const wrapped = this.writeAt <= oldest;
    if (wrapped ? oldest - this.writeAt >= size : this.bytes.length - this.writeAt >= size) return this.writeAt;
    if (!wrapped && oldest >= size) return 0;
    this.regrow(size);
    return this.writeAt;
  }

  /**
   * Copy the records, oldest first, into a buffer twice as large (or as large
   * as they and the next `size` bytes need). It does not shrink while
   * anything is kept: a channel gives its buffer back when its history
   * expires (trimAge).
   */
  private regrow(size: number): void {
    let used = 0;
    for (let i = 0; i < this.length; i++) used += this.fields[((this.head + i) % this.slots) * FIELDS + BYTE_LENGTH]!;
    const bytes = this.arena.bytes(Math.max(this.bytes.length * 2, used + size));
    let to = 0;
    for (let i = 0; i < this.length; i++) {
      const at = ((this.head + i) % this.slots) * FIELDS;
      const from = this.fields[at + BYTE_START]!;
      const n = this.fields[at + BYTE_LENGTH]!;
      this.bytes.copy(bytes, to, from, from + n);
      this.fields[at + BYTE_START] = to;
      to += n;
    }
    this.replaceBytes(bytes);
    this.writeAt = to;
  }

  private replaceBytes(bytes: Buffer): void {
    if (this.bytes !== NO_BYTES) this.arena.release(this.bytes);
    this.bytes = bytes;
  }

  private dropOldest(): void {
    this.head = (this.head + 1) % this.slots;
    this.length--;
  }
}
