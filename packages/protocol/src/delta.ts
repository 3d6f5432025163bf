/**
 * Delta compression of publications (docs/protocol.md, "Delta compression").
 * A delta turns the previous publication's data into the next one's, both as
 * canonical JSON text (`JSON.stringify(JSON.parse(text))`, the same in every
 * ECMAScript engine). It is a list of operations over the base text, in
 * UTF-16 code units, applied left to right from the start of the base:
 *   a number n ≥ 0  copies the next n units of the base,
 *   a number -n     skips the next n units of the base,
 *   a string        inserts itself;
 * and it must end exactly at the end of the base. Consecutive status objects
 * and growing transcripts differ in a few short stretches, which this says
 * in a few operations.
 */
import { ErrorCode } from './codes.js';
import { ProtocolError } from './errors.js';

export type DeltaOp = number | string;
export type TextDelta = DeltaOp[];

/** Edits searched for between the changed middles before settling for "replace the middle" (bounds the cost). */
const MAX_EDITS = 48;
/** Middles longer than this (in units, both together) are replaced whole: the search costs O(length × edits). */
const MAX_SEARCH = 8192;

/** The delta from `base` to `next`: common prefix and suffix copied, the fewest edits between (up to a bound). */
export function makeDelta(base: string, next: string): TextDelta {
  const max = Math.min(base.length, next.length);
  let prefix = 0;
  while (prefix < max && base.charCodeAt(prefix) === next.charCodeAt(prefix)) prefix++;
  let suffix = 0;
  while (suffix < max - prefix && base.charCodeAt(base.length - 1 - suffix) === next.charCodeAt(next.length - 1 - suffix)) suffix++;
  const a = base.slice(prefix, base.length - suffix);
  const b = next.slice(prefix, next.length - suffix);
  const ops = new OpList();
  ops.copy(prefix);
  const edits = a.length + b.length <= MAX_SEARCH ? shortestEdits(a, b) : undefined;
  if (edits) for (const e of edits) ops.add(e);
  else {
    ops.skip(a.length);
    ops.insert(b);
  }
  ops.copy(suffix);
  return ops.ops;
}

/** Rebuild the next text from `base`; a delta that does not fit the base is refused (the stream is out of step). */
export function applyDelta(base: string, delta: unknown): string {
  if (!Array.isArray(delta)) refuse();
  let at = 0;
  let out = '';
  for (const op of delta as unknown[]) {
    if (typeof op === 'string') out += op;
    else if (typeof op === 'number' && Number.isSafeInteger(op)) {
      const n = Math.abs(op);
      if (at + n > base.length) refuse();
      if (op > 0) out += base.slice(at, at + n);
      at += n;
    } else refuse();
  }
  if (at !== base.length) refuse();
  return out;
}

/** The text a delta is computed over: the same for the server (from the stored JSON) and the client (from the value). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value);
}

function refuse(): never {
  throw new ProtocolError(ErrorCode.BadRequest, 'delta does not apply to the previous publication');
}

/** Builds the op list, merging runs of the same kind. */
class OpList {
  readonly ops: TextDelta = [];
  copy(n: number): void {
    if (n === 0) return;
    const last = this.ops.length - 1;
    if (typeof this.ops[last] === 'number' && (this.ops[last] as number) > 0) (this.ops[last] as number) += n;
    else this.ops.push(n);
  }
  skip(n: number): void {
    if (n === 0) return;
    const last = this.ops.length - 1;
    if (typeof this.ops[last] === 'number' && (this.ops[last] as number) < 0) (this.ops[last] as number) -= n;
    else this.ops.push(-n);
  }
  insert(s: string): void {
    if (s === '') return;
    const last = this.ops.length - 1;
    if (typeof this.ops[last] === 'string') this.ops[last] += s;
    else this.ops.push(s);
  }
  add(e: Edit): void {
    if (e === COPY) this.copy(1);
    else if (e === SKIP) this.skip(1);
    else this.insert(e);
  }
}

/** One unit of an edit script: copy one unit, skip one unit, or insert this text. */
type Edit = typeof COPY | typeof SKIP | string;
const COPY = 1;
const SKIP = -1;

/**
 * The shortest edit script from `a` to `b` (Myers, "An O(ND) Difference
 * Algorithm"), or undefined when it needs more than MAX_EDITS edits.
 */
function shortestEdits(a: string, b: string): Edit[] | undefined {
  const n = a.length;
  const m = b.length;
  const limit = Math.min(n + m, MAX_EDITS);
  const off = limit + 1;
  const v = new Int32Array(2 * limit + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= limit; d++) {
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1]! < v[off + k + 1]!) ? v[off + k + 1]! : v[off + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a.charCodeAt(x) === b.charCodeAt(y)) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= n && y >= m) {
        trace.push(v.slice());
        return backtrack(trace, a, b, off);
      }
    }
    trace.push(v.slice());
  }
  return undefined;
}

function backtrack(trace: Int32Array[], a: string, b: string, off: number): Edit[] {
  const edits: Edit[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = trace.length - 1; d > 0; d--) {
    const v = trace[d - 1]!;
    const k = x - y;
    const down = k === -d || (k !== d && v[off + k - 1]! < v[off + k + 1]!);
    const prevK = down ? k + 1 : k - 1;
    const prevX = v[off + prevK]!;
    const prevY = prevX - prevK;
    for (; x > prevX && y > prevY; x--, y--) edits.push(COPY);
    if (down) edits.push(b[prevY]!);
    else edits.push(SKIP);
    x = prevX;
    y = prevY;
  }
  for (; x > 0; x--) edits.push(COPY);
  return edits.reverse();
}
