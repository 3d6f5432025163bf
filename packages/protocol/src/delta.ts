/**
 * Delta compression of publications (docs/protocol.md, "Delta compression").
 * A delta turns the previous publication's data into the next one's, both as
 * canonical JSON text (`JSON.stringify(JSON.parse(text))`, the same in every
 * ECMAScript engine): `[prefix, suffix, middle]` keeps the first `prefix` and
 * the last `suffix` UTF-16 code units of the base and puts `middle` between.
 * Consecutive status objects and growing transcripts differ in one stretch,
 * which is all this format can say, and all they need.
 */
import { ErrorCode } from './codes.js';
import { ProtocolError } from './errors.js';

export type TextDelta = [prefix: number, suffix: number, middle: string];

const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLowSurrogate = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

/** The delta from `base` to `next`: the longest common prefix, then the longest common suffix of what is left. */
export function makeDelta(base: string, next: string): TextDelta {
  const max = Math.min(base.length, next.length);
  let prefix = 0;
  while (prefix < max && base.charCodeAt(prefix) === next.charCodeAt(prefix)) prefix++;
  // Never split a surrogate pair: the middle stays well-formed text.
  if (prefix > 0 && isHighSurrogate(next.charCodeAt(prefix - 1))) prefix--;
  let suffix = 0;
  const room = max - prefix;
  while (suffix < room && base.charCodeAt(base.length - 1 - suffix) === next.charCodeAt(next.length - 1 - suffix)) suffix++;
  if (suffix > 0 && isLowSurrogate(next.charCodeAt(next.length - suffix))) suffix--;
  return [prefix, suffix, next.slice(prefix, next.length - suffix)];
}

/** Rebuild the next text from `base`; a delta that does not fit the base is refused (the stream is out of step). */
export function applyDelta(base: string, delta: unknown): string {
  if (!isTextDelta(delta) || delta[0] + delta[1] > base.length) {
    throw new ProtocolError(ErrorCode.BadRequest, 'delta does not apply to the previous publication');
  }
  const [prefix, suffix, middle] = delta;
  return base.slice(0, prefix) + middle + base.slice(base.length - suffix);
}

function isTextDelta(v: unknown): v is TextDelta {
  return (
    Array.isArray(v) &&
    v.length === 3 &&
    Number.isSafeInteger(v[0]) &&
    v[0] >= 0 &&
    Number.isSafeInteger(v[1]) &&
    v[1] >= 0 &&
    typeof v[2] === 'string'
  );
}

/** The text a delta is computed over: the same for the server (from the stored JSON) and the client (from the value). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value);
}
