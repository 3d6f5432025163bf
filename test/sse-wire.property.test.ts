/**
 * The parsers behind SSE and the RPC proxy read untrusted input (query
 * strings, headers, POST bodies, a backend's stream). Whatever arrives, they
 * return a value or throw their one documented error, never anything else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError, decodeClientValue } from '@tidings/protocol';
import { HttpError } from '../packages/server/dist/http/json.js';
import { RpcError } from '../packages/server/dist/rpc/registry.js';
import { lines, parseLine } from '../packages/server/dist/rpc/ndjson.js';
import {
  eventId,
  idFragment,
  parseCommandBody,
  parseConnectQuery,
  parseLastEventId,
  readCookie,
  withResume,
} from '../packages/server/dist/transport/sse-wire.js';

function only<T>(errorClass: new (...args: any[]) => Error, fn: () => T): T | Error {
  try {
    return fn();
  } catch (err) {
    expect(err).toBeInstanceOf(errorClass);
    return err as Error;
  }
}

const channel = fc.stringMatching(/^[A-Za-z0-9_.:#,@=\-/]{1,40}$/);
const position = fc.record({ offset: fc.nat(), epoch: fc.string({ maxLength: 64 }) });
const positions = fc.uniqueArray(fc.tuple(channel, position), { selector: ([c]) => c, maxLength: 20 });
const text = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.jsonValue().map((v) => JSON.stringify(v)));

describe('SSE wire parsers', () => {
  it('Last-Event-ID: any header gives positions or a 400', () => {
    fc.assert(
      fc.property(text, (h) => {
        const r = only(HttpError, () => parseLastEventId(h));
        if (r instanceof HttpError) expect(r.status).toBe(400);
      }),
      { numRuns: 3000 },
    );
  });

  it('event ids round-trip every position, and never hold a line break', () => {
    fc.assert(
      fc.property(positions, (entries) => {
        const id = eventId(entries.map(([c, p]) => idFragment(c, p)));
        expect(id).not.toMatch(/[\r\n\0]/);
        // Object key order is not meaningful (integer-like keys come first): compare as sets.
        const byName = (a: [string, unknown], b: [string, unknown]) => (a[0] < b[0] ? -1 : 1);
        expect([...parseLastEventId(id)].sort(byName)).toEqual([...entries].sort(byName));
      }),
      { numRuns: 1000 },
    );
  });

  it('connect query and command bodies: a value or a 400', () => {
    fc.assert(
      fc.property(text, (q) => void only(HttpError, () => parseConnectQuery(q))),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ session: fc.string(), frames: fc.array(fc.anything(), { maxLength: 120 }) })), (b) => {
        const r = only(HttpError, () => parseCommandBody(b));
        if (!(r instanceof Error)) expect(r.frames.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('resumed connect params decode like any connect command, with the resumed positions as since', () => {
    fc.assert(
      fc.property(fc.object({ maxDepth: 3 }), positions, (params, entries) => {
        const merged = withResume(params, new Map(entries));
        const frame = only(ProtocolError, () => decodeClientValue({ id: 1, method: 'connect', params: merged }));
        if (frame instanceof Error || !('id' in frame) || frame.method !== 'connect') return;
        for (const [c, p] of entries) expect(frame.params.subs?.find((s) => s.channel === c)?.since).toEqual(p);
      }),
      { numRuns: 1000 },
    );
  });

  it('cookies: never throws', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 20 }), (h, n) => void readCookie(h, n)), { numRuns: 2000 });
    expect(readCookie('a=1; tok=x%20y; b=2', 'tok')).toBe('x y');
  });
});

describe('RPC proxy NDJSON', () => {
  it('any line is a chunk, a result, an error, or an RpcError', () => {
    fc.assert(
      fc.property(text, (l) => {
        const r = only(RpcError, () => parseLine(l));
        if (r instanceof RpcError) expect(r.code).toBeGreaterThanOrEqual(100);
      }),
      { numRuns: 3000 },
    );
  });

  it('splits a stream into the same lines however it is cut', async () => {
    const input = fc.array(fc.string({ maxLength: 30 }).map((s) => s.replace(/[\r\n]/g, '')), { maxLength: 20 });
    await fc.assert(
      fc.asyncProperty(input, fc.array(fc.nat(50), { maxLength: 10 }), async (ls, cuts) => {
        const bytes = new TextEncoder().encode(ls.join('\n'));
        const parts: Uint8Array[] = [];
        let at = 0;
        for (const c of cuts) {
          parts.push(bytes.subarray(at, Math.min(bytes.length, at + c)));
          at = Math.min(bytes.length, at + c);
        }
        parts.push(bytes.subarray(at));
        const got: string[] = [];
        for await (const l of lines((async function* () { yield* parts; })(), 1_000_000)) got.push(l);
        expect(got).toEqual(ls.map((l) => l.trim()).filter(Boolean));
      }),
      { numRuns: 500 },
    );
  });
});
