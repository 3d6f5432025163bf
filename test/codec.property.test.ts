/** The frame decoder is fed by the network: whatever arrives, it returns a frame or a ProtocolError. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, ProtocolError, decodeClientFrame, isValidChannel } from '@tidings/protocol';

const KNOWN = new Set(Object.values(ErrorCode));

function decodeOrError(text: string): unknown {
  try {
    return decodeClientFrame(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    expect(KNOWN.has((err as ProtocolError).code as never)).toBe(true);
    return err;
  }
}

const channel = fc.stringMatching(/^[a-z0-9:#,_-]{1,40}$/).filter(isValidChannel);
const position = fc.record({ offset: fc.nat(), epoch: fc.string({ maxLength: 12 }) });
const command = fc.oneof(
  fc.record({ id: fc.integer({ min: 1, max: 1e6 }), method: fc.constant('subscribe'), params: fc.record({ channel, since: fc.option(position, { nil: undefined }) }, { requiredKeys: ['channel'] }) }),
  fc.record({ id: fc.integer({ min: 1, max: 1e6 }), method: fc.constant('publish'), params: fc.record({ channel, data: fc.jsonValue() }) }),
  fc.record({ id: fc.integer({ min: 1, max: 1e6 }), method: fc.constant('connect'), params: fc.record({ token: fc.string(), subs: fc.array(fc.record({ channel }), { maxLength: 5 }) }) }),
  fc.record({
    id: fc.integer({ min: 1, max: 1e6 }),
    method: fc.constant('signal'),
    params: fc.record(
      { channel, data: fc.jsonValue().filter((v) => v !== null), key: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/), ttl: fc.integer({ min: 1, max: 86_400_000 }) },
      { requiredKeys: ['channel', 'data'] },
    ),
  }),
);

describe('decodeClientFrame', () => {
  it('never throws anything but ProtocolError on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => void decodeOrError(s)), { numRuns: 3000 });
  });

  it('never throws anything but ProtocolError on arbitrary JSON', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => void decodeOrError(JSON.stringify(v))), { numRuns: 3000 });
  });

  it('never throws anything but ProtocolError on mutated valid commands', () => {
    const mutated = fc.tuple(command, fc.anything()).map(([cmd, junk]) => {
      const copy: any = structuredClone(cmd);
      copy.params[Object.keys(copy.params)[0] ?? 'x'] = junk;
      return JSON.stringify(copy) ?? 'null';
    });
    fc.assert(fc.property(mutated, (s) => void decodeOrError(s)), { numRuns: 2000 });
  });

  it('round-trips valid commands', () => {
    fc.assert(
      fc.property(command, (cmd) => {
        const decoded = decodeClientFrame(JSON.stringify(cmd)) as any;
        expect(decoded.id).toBe(cmd.id);
        expect(decoded.method).toBe(cmd.method);
        expect(decoded.params.channel ?? decoded.params.subs).toEqual((cmd.params as any).channel ?? (cmd.params as any).subs);
        if (cmd.method === 'signal') expect(decoded.params).toEqual(JSON.parse(JSON.stringify(cmd.params)));
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps the id of a command with bad params, so the error can be answered', () => {
    try {
      decodeClientFrame('{"id":7,"method":"subscribe","params":{"channel":"bad channel!"}}');
      expect.unreachable();
    } catch (err) {
      expect((err as ProtocolError).id).toBe(7);
      expect((err as ProtocolError).code).toBe(ErrorCode.UnknownChannel);
    }
  });
});
