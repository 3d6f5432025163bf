/**
 * The application payload every server carries: a JSON string of exactly
 * `size` bytes, `@@` + 12-digit send time (µs on the generator's clock) + `:` +
 * sequence + padding. Receivers find it with one indexOf and read the digits
 * in place, whatever envelope the server wraps around it.
 */
export const MARKER = Buffer.from('@@');
const MARK0 = 0x40;
const TS_DIGITS = 12;

/** Current time on the generator's clock, in µs. */
export const nowUs = () => Math.round(performance.now() * 1000);

/** The payload's JSON text (with quotes), `size` bytes long. */
export function makePayload(sendUs, seq, size = 200) {
  const head = `"@@${String(sendUs).padStart(TS_DIGITS, '0')}:${seq}:`;
  return head + 'x'.repeat(Math.max(0, size - head.length - 1)) + '"';
}

/** Send time embedded in buf[start, end), or -1 when the range holds no payload. */
export function readSendUs(buf, start, end) {
  const at = buf.indexOf(MARK0, start);
  if (at < 0 || at + 2 + TS_DIGITS > end || buf[at + 1] !== MARK0) return -1;
  let v = 0;
  for (let i = at + 2; i < at + 2 + TS_DIGITS; i++) v = v * 10 + (buf[i] - 48);
  return v;
}
