/**
 * The protocol additions of issue 4 keep the decoders total: binary frames,
 * streamed and binary rpc params, cancel, and chunk replies. Whatever
 * arrives gives a frame or a ProtocolError with a known code.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  ProtocolError,
  base64ToBytes,
  bytesToBase64,
  decodeBinaryClientFrame,
  decodeBinaryServerFrame,
  decodeClientFrame,
  decodeServerFrame,
  encodeBinaryFrame,
} from '@tidings/protocol';

const KNOWN = new Set<number>(Object.values(ErrorCode));

function total<T>(fn: () => T): T | ProtocolError {
  try {
    return fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    expect(KNOWN.has((err as ProtocolError).code)).toBe(true);
    return err as ProtocolError;
  }
}

const bytes = fc.uint8Array({ maxLength: 300 });
const rpcCommand = fc.record({
  id: fc.integer({ min: 1, max: 1e6 }),
  method: fc.constant('rpc'),
  params: fc.record({ method: fc.stringMatching(/^[a-z.]{1,20}$/), data: fc.jsonValue(), stream: fc.boolean() }),
});

describe('binary frames and the new commands', () => {
  it('decodeBinaryClientFrame: arbitrary bytes give a frame or a ProtocolError', () => {
    fc.assert(fc.property(bytes, (b) => void total(() => decodeBinaryClientFrame(b))), { numRuns: 3000 });
  });

  it('decodeBinaryClientFrame: arbitrary JSON headers with a payload', () => {
    fc.assert(
      fc.property(fc.jsonValue(), bytes, (h, p) => void total(() => decodeBinaryClientFrame(encodeBinaryFrame(JSON.stringify(h) ?? 'null', p)))),
      { numRuns: 2000 },
    );
  });

  it('round-trips an rpc command with bytes, in a binary frame and as base64 text', () => {
    fc.assert(
      fc.property(rpcCommand, bytes, (cmd, payload) => {
        const header = JSON.stringify({ ...cmd, params: { ...cmd.params, data: null, binary: true } });
        const fromBinary = decodeBinaryClientFrame(encodeBinaryFrame(header, payload)) as any;
        expect(Array.from(fromBinary.params.data)).toEqual(Array.from(payload));
        const fromText = decodeClientFrame(JSON.stringify({ ...cmd, params: { ...cmd.params, data: bytesToBase64(payload), binary: true } })) as any;
        expect(Array.from(fromText.params.data)).toEqual(Array.from(payload));
        expect(fromText.params.stream === true).toBe(cmd.params.stream);
      }),
      { numRuns: 1000 },
    );
  });

  it('rpc, cancel and binary params with junk in them give a ProtocolError with the id', () => {
    const junk = fc.record({
      id: fc.integer({ min: 1, max: 1e6 }),
      method: fc.constantFrom('rpc', 'cancel'),
      params: fc.record({ method: fc.anything(), id: fc.anything(), data: fc.anything(), stream: fc.anything(), binary: fc.anything() }, { requiredKeys: [] }),
    });
    fc.assert(
      fc.property(junk, (f) => {
        const r = total(() => decodeClientFrame(JSON.stringify(f) ?? 'null'));
        if (r instanceof ProtocolError) expect(r.id).toBe(f.id);
      }),
      { numRuns: 3000 },
    );
  });

  it('server side decoders (client SDK): any text or bytes give a frame or a ProtocolError', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => void total(() => decodeServerFrame(s))), { numRuns: 2000 });
    fc.assert(
      fc.property(fc.jsonValue(), (v) => void total(() => decodeServerFrame(JSON.stringify({ id: 1, chunk: v, binary: true })))),
      { numRuns: 1000 },
    );
    fc.assert(fc.property(bytes, (b) => void total(() => decodeBinaryServerFrame(b))), { numRuns: 2000 });
  });

  it('base64 helpers round-trip and refuse what is not padded base64', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100_000 }), (b) => void expect(base64ToBytes(bytesToBase64(b))).toEqual(b)), { numRuns: 200 });
    fc.assert(fc.property(fc.string({ maxLength: 50 }), (s) => void total(() => base64ToBytes(s))), { numRuns: 2000 });
  });
});
