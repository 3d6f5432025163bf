/**
 * The hand-written frame parser (wire/ws-receiver.ts) against frames built
 * here: any mix of messages, fragments, pings and masks, cut at any byte,
 * comes out whole and in order; every protocol fault closes with `ws`'s code
 * and reports nothing after it. The handshake (transport/ws-handshake.ts)
 * answers RFC 6455's own example and refuses what `ws` refuses.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerHandshake, firstSubprotocol } from '../packages/server/dist/transport/ws-handshake.js';
import { type FrameHandler, WsReceiver } from '../packages/server/dist/wire/ws-receiver.js';

type Event = { kind: 'text' | 'binary' | 'ping'; data: string } | { kind: 'close'; code: number; reason: string } | { kind: 'fault'; code: number };

/** A receiver whose reports land in `events`. */
function receiver(maxMessageBytes = 1 << 20, maxFragments = 64): { r: WsReceiver; events: Event[] } {
  const events: Event[] = [];
  const handler: FrameHandler = {
    onText: (d) => events.push({ kind: 'text', data: d.toString('utf8') }),
    onBinary: (d) => events.push({ kind: 'binary', data: d.toString('hex') }),
    onPing: (d) => events.push({ kind: 'ping', data: d.toString('hex') }),
    onCloseFrame: (code, reason) => events.push({ kind: 'close', code, reason: reason.toString('utf8') }),
    onFault: (code) => events.push({ kind: 'fault', code }),
  };
  return { r: new WsReceiver(handler, { maxMessageBytes, maxFragments }), events };
}

/** One client frame: masked (unless told otherwise), with the shortest length encoding or the one asked for. */
function frame(opcode: number, payload: Buffer, { fin = true, mask = [1, 2, 3, 4], masked = true, rsv = 0, longLength = false } = {}): Buffer {
  const n = payload.length;
  const ext = longLength ? 8 : n < 126 ? 0 : n < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + ext + (masked ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | rsv | opcode;
  head[1] = (masked ? 0x80 : 0) | (ext === 0 ? n : ext === 2 ? 126 : 127);
  if (ext === 2) head.writeUInt16BE(n, 2);
  if (ext === 8) head.writeBigUInt64BE(BigInt(n), 2);
  const body = Buffer.from(payload);
  if (masked) {
    for (let i = 0; i < 4; i++) head[2 + ext + i] = mask[i]!;
    for (let i = 0; i < n; i++) body[i] = body[i]! ^ mask[i & 3]!;
  }
  return Buffer.concat([head, body]);
}

/** Feed `bytes` cut at `cuts` (offsets), each piece its own buffer as a socket read would be. */
function feed(r: WsReceiver, bytes: Buffer, cuts: number[]): void {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let at = 0;
  for (const p of [...points, bytes.length]) {
    if (p > at) r.push(Buffer.from(bytes.subarray(at, p)));
    at = Math.max(at, p);
  }
}

const text = fc.string({ unit: 'grapheme', maxLength: 300 });
const binary = fc.uint8Array({ maxLength: 70_000 });
const message = fc.oneof(
  fc.record({ kind: fc.constant('text' as const), data: text }),
  fc.record({ kind: fc.constant('binary' as const), data: binary.map((b) => Buffer.from(b).toString('hex')) }),
  fc.record({ kind: fc.constant('ping' as const), data: fc.uint8Array({ maxLength: 125 }).map((b) => Buffer.from(b).toString('hex')) }),
);
const mask = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 });

describe('WsReceiver', () => {
  it('hands on every message whole and in order, however it is fragmented, masked and cut', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(message, fc.integer({ min: 1, max: 5 }), mask, fc.boolean()), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (messages, cuts) => {
          const frames: Buffer[] = [];
          for (const [m, parts, mk, pingInside] of messages) {
            const payload = m.kind === 'text' ? Buffer.from(m.data, 'utf8') : Buffer.from(m.data, 'hex');
            if (m.kind === 'ping') {
              frames.push(frame(0x9, payload, { mask: mk }));
              continue;
            }
            const size = Math.ceil(payload.length / parts) || 1;
            for (let i = 0, at = 0; i < parts; i++, at += size) {
              const last = i === parts - 1;
              frames.push(frame(i === 0 ? (m.kind === 'text' ? 0x1 : 0x2) : 0x0, payload.subarray(at, last ? undefined : at + size), { fin: last, mask: mk }));
              // Control frames may come between a message's fragments (RFC 6455 §5.4).
              if (pingInside && !last) frames.push(frame(0xa, Buffer.from('pong'), { mask: mk }));
            }
          }
          frames.push(frame(0x8, Buffer.concat([Buffer.from([0x0f, 0xa0]), Buffer.from('bye ✓')])));
          const { r, events } = receiver();
          feed(r, Buffer.concat(frames), cuts);
          expect(events).toEqual([...messages.map(([m]) => m), { kind: 'close', code: 4000, reason: 'bye ✓' }]);
          expect(r.ended).toBe(true);
        },
      ),
      { numRuns: 250 },
    );
  });

  it('takes a message of exactly the limit, and refuses one byte more with 1009 from its header alone', () => {
    const ok = receiver(1000);
    ok.r.push(frame(0x2, Buffer.alloc(1000)));
    expect(ok.events).toEqual([{ kind: 'binary', data: '00'.repeat(1000) }]);
    const over = receiver(1000);
    // Only the header: the payload never has to arrive (or be buffered) for the refusal.
    over.r.push(frame(0x2, Buffer.alloc(1001)).subarray(0, 8));
    expect(over.events).toEqual([{ kind: 'fault', code: 1009 }]);
    const fragments = receiver(1000);
    fragments.r.push(Buffer.concat([frame(0x1, Buffer.alloc(600, 97), { fin: false }), frame(0x0, Buffer.alloc(401, 97))]));
    expect(fragments.events).toEqual([{ kind: 'fault', code: 1009 }]);
  });

  it('reads a message trickled one byte per read', () => {
    const payload = Buffer.from('é'.repeat(5000));
    const bytes = frame(0x1, payload);
    const { r, events } = receiver();
    for (let i = 0; i < bytes.length; i++) r.push(bytes.subarray(i, i + 1));
    expect(events).toEqual([{ kind: 'text', data: payload.toString() }]);
  });

  const faults: Array<[string, Buffer, number]> = [
    ['RSV1 set', frame(0x1, Buffer.from('x'), { rsv: 0x40 }), 1002],
    ['RSV2 set', frame(0x1, Buffer.from('x'), { rsv: 0x20 }), 1002],
    ['an unmasked frame', frame(0x1, Buffer.from('x'), { masked: false }), 1002],
    ['opcode 3', frame(0x3, Buffer.from('x')), 1002],
    ['opcode 0xb', frame(0xb, Buffer.from('x')), 1002],
    ['a continuation with no message begun', frame(0x0, Buffer.from('x')), 1002],
    ['a new message inside a fragmented one', Buffer.concat([frame(0x1, Buffer.from('a'), { fin: false }), frame(0x1, Buffer.from('b'))]), 1002],
    ['a fragmented ping', frame(0x9, Buffer.from('x'), { fin: false }), 1002],
    ['a ping of 126 bytes', frame(0x9, Buffer.alloc(126)), 1002],
    ['a close frame of one byte', frame(0x8, Buffer.from([3])), 1002],
    ['close code 1005', frame(0x8, Buffer.from([0x03, 0xed])), 1002],
    ['close code 2999', frame(0x8, Buffer.from([0x0b, 0xb7])), 1002],
    ['a close reason that is not UTF-8', frame(0x8, Buffer.from([0x03, 0xe8, 0xff])), 1007],
    ['text that is not UTF-8', frame(0x1, Buffer.from([0x61, 0xc3])), 1007],
    ['text cut inside a character across fragments', Buffer.concat([frame(0x1, Buffer.from([0xe2, 0x82]), { fin: false }), frame(0x0, Buffer.from([0x41]))]), 1007],
    ['a 64-bit length past 2^53 - 1', Buffer.from([0x82, 0xff, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]), 1009],
    ['more fragments than allowed', Buffer.concat(Array.from({ length: 65 }, (_, i) => frame(i === 0 ? 0x1 : 0x0, Buffer.alloc(0), { fin: i === 64 }))), 1008],
  ];
  it.each(faults)('closes on %s with its code, and reports nothing after it', (_, bad, code) => {
    const { r, events } = receiver();
    r.push(Buffer.concat([frame(0x1, Buffer.from('before')), bad, frame(0x1, Buffer.from('after'))]));
    expect(events).toEqual([{ kind: 'text', data: 'before' }, { kind: 'fault', code }]);
    expect(r.ended).toBe(true);
  });

  it('never throws and ends at most once on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (reads) => {
        const { r, events } = receiver(4096, 8);
        for (const b of reads) r.push(Buffer.from(b));
        const ends = events.filter((e) => e.kind === 'fault' || e.kind === 'close');
        expect(ends.length).toBeLessThanOrEqual(1);
        if (ends.length === 1) expect(events.at(-1)).toBe(ends[0]);
      }),
      { numRuns: 500 },
    );
  });
});

describe('answerHandshake', () => {
  const base = { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' };

  it("answers RFC 6455's example with its accept value", () => {
    const a = answerHandshake('GET', base);
    expect(a).toEqual({ ok: true, response: expect.stringContaining('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n') });
    expect(a.ok && a.response.startsWith('HTTP/1.1 101 Switching Protocols\r\n') && a.response.endsWith('\r\n\r\n')).toBe(true);
  });

  it('agrees to the first subprotocol offered', () => {
    const a = answerHandshake('GET', { ...base, 'sec-websocket-protocol': 'tidings.v1, chat' });
    expect(a.ok && a.response).toContain('Sec-WebSocket-Protocol: tidings.v1\r\n');
    expect(firstSubprotocol('a,b')).toBe('a');
    for (const bad of ['a b', 'a,,b', 'a,a', ',a', 'a,', 'a;b']) expect(firstSubprotocol(bad)).toBeUndefined();
  });

  const refusals: Array<[string, string, Record<string, string>, string]> = [
    ['POST', 'POST', base, '405 Method Not Allowed'],
    ['no Upgrade: websocket', 'GET', { ...base, upgrade: 'h2c' }, '400 Bad Request'],
    ['a short key', 'GET', { ...base, 'sec-websocket-key': 'abc' }, '400 Bad Request'],
    ['version 12', 'GET', { ...base, 'sec-websocket-version': '12' }, 'Sec-WebSocket-Version: 13, 8'],
    ['a malformed subprotocol list', 'GET', { ...base, 'sec-websocket-protocol': 'a b' }, '400 Bad Request'],
  ];
  it.each(refusals)('refuses %s', (_, method, headers, says) => {
    const a = answerHandshake(method, headers);
    expect(a.ok).toBe(false);
    if (!a.ok) expect(a.refusal).toContain(says);
  });
});
