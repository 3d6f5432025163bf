/** Properties of what the webhooks put on the network: event JSON, batch bodies, signatures, retry delays, the config. */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '@tidings/server';
import { retryDelay } from '../packages/server/dist/webhooks/backoff.js';
import { encodeBatch, encodeEvent } from '../packages/server/dist/webhooks/event.js';
import { signatureHeader } from '../packages/server/dist/webhooks/signature.js';
import { validSignature } from './webhook-receiver.js';

const names = ['channel_occupied', 'member_added', 'client_publication', 'user_connected'] as const;

describe('webhook encoding', () => {
  it('an event is JSON with its fields as given, and the client data spliced in unchanged', () => {
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.string(), fc.option(fc.string(), { nil: undefined }), fc.option(fc.jsonValue(), { nil: undefined }), (name, channel, user, data) => {
        const json = encodeEvent({ name, channel, user, data: data === undefined ? undefined : JSON.stringify(data) }, 1234);
        const e = JSON.parse(json);
        expect(e).toMatchObject({ name, channel, time_ms: 1234 });
        expect(e.id).toMatch(/^evt_[A-Za-z0-9_-]{22}$/);
        expect(e.user).toBe(user);
        if (data !== undefined) expect(e.data).toEqual(JSON.parse(JSON.stringify(data)));
        else expect('data' in e).toBe(false);
      }),
    );
  });

  it('a batch body parses back to its events, in order', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 20 }), (channels) => {
        const events = channels.map((channel) => encodeEvent({ name: 'channel_vacated', channel }));
        expect(JSON.parse(encodeBatch(events)).events.map((e: { channel: string }) => e.channel)).toEqual(channels);
      }),
    );
  });

  it('the signature is HMAC-SHA256 over "<t>." + body, hex, for any body and secret', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 16 }), fc.string(), fc.integer({ min: 0, max: 2 ** 40 }), (secret, body, t) => {
        const header = signatureHeader(secret, body, t);
        expect(header).toBe(`t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex')}`);
      }),
    );
    const now = Math.floor(Date.now() / 1000);
    expect(validSignature('s'.repeat(16), '{"a":"é"}', signatureHeader('s'.repeat(16), '{"a":"é"}', now))).toBe(true);
    expect(validSignature('s'.repeat(16), '{"a":"e"}', signatureHeader('s'.repeat(16), '{"a":"é"}', now))).toBe(false);
  });
});

describe('retry delays', () => {
  it('stay within [ceiling/2, ceiling], the ceiling doubling from min up to max', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 10, max: 10_000 }), fc.integer({ min: 0, max: 100_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (failures, min, extra, r) => {
        const max = min + extra;
        const ceiling = Math.min(max, min * 2 ** Math.min(failures - 1, 30));
        const d = retryDelay(failures, min, max, () => r);
        expect(d).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
        expect(d).toBeLessThanOrEqual(Math.ceil(ceiling));
      }),
    );
  });
});

describe('webhooks config', () => {
  it('refuses half a shorthand endpoint, short secrets, unknown events, a lease not longer than the timeout', () => {
    const bad = [
      { url: 'http://127.0.0.1:1/h' },
      { url: 'http://127.0.0.1:1/h', secret: 'short' },
      { endpoints: [{ url: 'http://127.0.0.1:1/h', secret: 'x'.repeat(16), events: ['channel_exploded'] }] },
      { endpoints: [{ url: 'ftp://x', secret: 'x'.repeat(16) }] },
      { timeout: '20s', lease: '10s' },
      { timeout: '10s', batchMaxWait: '6s', lease: '15s' },
      { endpoints: [{ url: 'http://127.0.0.1:1/h', secret: 'x'.repeat(16) }, { url: 'http://127.0.0.1:1/h', secret: 'y'.repeat(16) }] },
      { retryMinDelay: '5s', retryMaxDelay: '1s' },
      { batchMaxWait: 'soon' },
    ];
    for (const webhooks of bad) expect(() => parseConfig({ webhooks }), JSON.stringify(webhooks)).toThrow(/webhooks\./);
  });

  it('accepts any duration written as seconds or with a unit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom('ms', 's', 'm'), (n, unit) => {
        const ms = { ms: 1, s: 1000, m: 60_000 }[unit]! * n;
        const lease = 1e8; // seconds: longer than any wait drawn here
        expect(parseConfig({ webhooks: { batchMaxWait: `${n}${unit}`, lease } }).webhooks.batchMaxWait).toBe(ms);
        expect(parseConfig({ webhooks: { batchMaxWait: n, lease } }).webhooks.batchMaxWait).toBe(n * 1000);
      }),
    );
  });
});
