/**
 * Latency histogram in microseconds, HDR-style: exact below 128 µs, then 128
 * sub-buckets per power of two (< 1 % error). Fixed memory and O(1) record, so
 * the generator can record every sampled delivery without allocating.
 */
const SUB = 128;
const SUB_BITS = 7;
const SIZE = 26 * SUB; // covers values up to 2^32 µs

function indexOf(us) {
  if (us < SUB) return us < 0 ? 0 : us;
  const e = 31 - Math.clz32(us);
  return (e - SUB_BITS + 1) * SUB + ((us >>> (e - SUB_BITS)) - SUB);
}

function valueAt(index) {
  if (index < SUB) return index;
  const e = Math.floor(index / SUB) + SUB_BITS - 1;
  const mantissa = (index % SUB) + SUB;
  return mantissa * 2 ** (e - SUB_BITS);
}

export class Histogram {
  counts = new Uint32Array(SIZE);
  total = 0;
  max = 0;

  /** Record one latency in µs (clamped to 0 … 2^32-1). */
  record(us) {
    const v = us > 0xfffffffe ? 0xfffffffe : us | 0;
    this.counts[indexOf(v)]++;
    this.total++;
    if (v > this.max) this.max = v;
  }

  merge(other) {
    for (let i = 0; i < SIZE; i++) this.counts[i] += other.counts[i];
    this.total += other.total;
    this.max = Math.max(this.max, other.max);
  }

  /** Value at percentile p (0–100), in µs; the bucket's lower bound. */
  percentile(p) {
    if (this.total === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.counts[i];
      if (seen >= rank) return valueAt(i);
    }
    return this.max;
  }

  /** Summary in milliseconds, for tables and JSON. */
  summary() {
    const ms = (us) => (Number.isNaN(us) ? null : Math.round(us / 10) / 100);
    return { samples: this.total, p50: ms(this.percentile(50)), p90: ms(this.percentile(90)), p99: ms(this.percentile(99)), max: ms(this.max) };
  }
}
