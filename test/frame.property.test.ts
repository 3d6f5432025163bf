/** Server framing (RFC 6455 §5.2) at every length boundary: the header always tells the true payload length. */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { isUtf8 } from 'node:buffer';
import { wsBinaryFrame, wsCloseFrame, wsTextFrame } from '../packages/server/dist/wire/ws-frame.js';

function parseHeader(buf: Buffer): { fin: boolean; opcode: number; masked: boolean; len: number; head: number } {
  const b1 = buf[1]!;
  let len = b1 & 0x7f;
  let head = 2;
  if (len === 126) (len = buf.readUInt16BE(2)), (head = 4);
  else if (len === 127) (len = Number(buf.readBigUInt64BE(2))), (head = 10);
  return { fin: (buf[0]! & 0x80) !== 0, opcode: buf[0]! & 0x0f, masked: (b1 & 0x80) !== 0, len, head };
}

const sizes = fc.oneof(fc.integer({ min: 0, max: 130 }), fc.integer({ min: 65_530, max: 65_540 }), fc.integer({ min: 0, max: 200_000 }));

it('frames text of any length with a correct, unmasked header', () => {
  fc.assert(
    fc.property(sizes, fc.constantFrom('a', 'é', '€'), (n, ch) => {
      const text = ch.repeat(Math.ceil(n / Buffer.byteLength(ch)));
      const buf = wsTextFrame(text);
      const h = parseHeader(buf);
      expect(h).toMatchObject({ fin: true, opcode: 1, masked: false, len: Buffer.byteLength(text) });
      expect(buf.length).toBe(h.head + h.len);
      expect(buf.subarray(h.head).toString('utf8')).toBe(text);
    }),
    { numRuns: 300 },
  );
});

it('frames binary payloads as [u32 header length][JSON header][bytes]', () => {
  fc.assert(
    fc.property(sizes, fc.json({ maxDepth: 2 }), (n, header) => {
      const payload = new Uint8Array(n).map((_, i) => i & 0xff);
      const buf = wsBinaryFrame(header, payload);
      const h = parseHeader(buf);
      expect(h).toMatchObject({ fin: true, opcode: 2, masked: false });
      expect(buf.length).toBe(h.head + h.len);
      const hlen = buf.readUInt32BE(h.head);
      expect(buf.subarray(h.head + 4, h.head + 4 + hlen).toString('utf8')).toBe(header);
      expect(Buffer.compare(buf.subarray(h.head + 4 + hlen), Buffer.from(payload))).toBe(0);
    }),
    { numRuns: 200 },
  );
});

it('cuts a close reason to 123 bytes on a character boundary, keeping its start', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1000, max: 4999 }), fc.string({ unit: 'grapheme', maxLength: 200 }), (code, reason) => {
      const buf = wsCloseFrame(code, reason);
      const h = parseHeader(buf);
      expect(h).toMatchObject({ fin: true, opcode: 8, masked: false });
      expect(h.len).toBeLessThanOrEqual(125);
      expect(buf.readUInt16BE(h.head)).toBe(code);
      const text = buf.subarray(h.head + 2);
      expect(isUtf8(text)).toBe(true);
      expect(Buffer.from(reason, 'utf8').subarray(0, text.length).equals(text)).toBe(true);
      // Nothing is cut that fitted, and no more than one character's bytes (at most 3) of what did not.
      if (Buffer.byteLength(reason) <= 123) expect(text.toString()).toBe(reason);
      else expect(text.length).toBeGreaterThanOrEqual(120);
    }),
    { numRuns: 300 },
  );
  expect([...wsCloseFrame(undefined, 'ignored')]).toEqual([0x88, 0]);
});
