/**
 * One channel's history in memory: a ring buffer of publications bounded by
 * count and age, with the stream's epoch and top offset.
 *
 * An entry is one string, the publication's text (engine/publication-text.ts,
 * the same text its subscribers were sent), with its time and where its data
 * and info sit kept in one typed array (FIELDS numbers per slot). Keeping the publication objects instead
 * (an object, its data, its text, its info) made the history a heap of small
 * objects that every garbage collection had to trace: with thousands of busy
 * channels, the collector's pauses, not the publish path, set the ceiling
 * (bench/RESULTS.md). Offsets are dense, so they are not stored: the oldest
 * entry is `top - length + 1`. Publications read back are rebuilt from the
 * text, with the text as their cached frame, so recovery encodes nothing.
 */
import type { HistoryPolicy, ServerPublication } from './broker.js';
import { SPAN_FIELDS, publicationText } from './publication-text.js';

/** The ring of a stream that has kept nothing yet, shared: most channels never publish (memory per idle channel). */
const NO_TEXTS: Array<string | undefined> = [];
const NO_FIELDS = new Float64Array(0);
/** Per slot: the time, then the text's spans (publication-text.ts). */
const FIELDS = 1 + SPAN_FIELDS;
/** The first ring of a stream that keeps something. */
const FIRST_CAPACITY = 16;

const LOADED_AT = Date.now();
function secondsNow(now: number): number {
  return Math.floor((now - LOADED_AT) / 1000);
}

export class MemoryStream {
  constructor(readonly epoch: string) {}

  top = 0;
  /** Seconds since LOADED_AT: a small integer, where a ms timestamp would be a boxed double per stream. */
  private activeAt = secondsNow(Date.now());
  /** How long publications are kept (the channel's history policy, updated on use). */
  ttlMs = 0;
  private texts = NO_TEXTS;
  /** FIELDS per slot: its publication's time, and where data and info sit in its text. */
  private fields = NO_FIELDS;
  private head = 0;
  private length = 0;

  /** Append `pub` (its offset must be top+1) and trim to the policy. Sets `pub.encoded`, the text kept. */
  append(pub: ServerPublication, policy: HistoryPolicy, now: number): void {
    this.top = pub.offset;
    this.activeAt = secondsNow(now);
    if (policy.size <= 0) return;
    if (this.length === this.texts.length) this.grow(policy.size);
    if (this.length === this.texts.length) this.dropOldest();
    const slot = (this.head + this.length) % this.texts.length;
    this.texts[slot] = publicationText(pub, this.fields, slot * FIELDS + 1);
    this.fields[slot * FIELDS] = pub.time;
    this.length++;
    while (this.length > policy.size) this.dropOldest();
    this.trimAge(now - policy.ttlMs);
  }

  /** Drop publications older than `cutoff` (ms timestamp). */
  trimAge(cutoff: number): void {
    while (this.length > 0 && this.fields[this.head * FIELDS]! < cutoff) this.dropOldest();
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
    for (let i = skip; i < this.length && out.length < limit; i++) out.push(this.publicationAt(channel, (this.head + i) % this.texts.length, oldest + i));
    return out;
  }

  /** The publication kept in `slot`, rebuilt from its text. */
  private publicationAt(channel: string, slot: number, offset: number): ServerPublication {
    const text = this.texts[slot]!;
    const f = this.fields;
    const at = slot * FIELDS;
    const pub: ServerPublication = { channel, offset, epoch: this.epoch, data: text.slice(f[at + 1]!, f[at + 2]!), time: f[at]!, encoded: text };
    if (f[at + 3]! >= 0) pub.info = JSON.parse(text.slice(f[at + 3]!, f[at + 4]!)) as ServerPublication['info'];
    return pub;
  }

  private grow(max: number): void {
    const cap = this.texts.length;
    if (cap >= max) return;
    const next = Math.min(max, Math.max(FIRST_CAPACITY, cap * 2));
    const texts = new Array<string | undefined>(next);
    const fields = new Float64Array(next * FIELDS);
    for (let i = 0; i < this.length; i++) {
      const from = (this.head + i) % cap;
      texts[i] = this.texts[from];
      fields.set(this.fields.subarray(from * FIELDS, (from + 1) * FIELDS), i * FIELDS);
    }
    this.texts = texts;
    this.fields = fields;
    this.head = 0;
  }

  private dropOldest(): void {
    this.texts[this.head] = undefined;
    this.head = (this.head + 1) % this.texts.length;
    this.length--;
  }
}
