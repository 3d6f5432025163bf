/**
 * The hooks' answer parser is fed by the app's backend: any text gives a
 * verdict or a HookFailure('answer'), never another error; valid answers give
 * back what they carried; anything beside `result` or `error` is refused.
 * Also the bounded verdict cache (never more than its bound, entries expire)
 * and the `hooks` configuration's checks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAnswer } from '../packages/server/dist/hooks/answers.js';
import { VerdictCache } from '../packages/server/dist/hooks/cache.js';
import { HookFailure } from '../packages/server/dist/hooks/caller.js';

const HOOKS = ['connect', 'subscribe', 'publish', 'refresh'] as const;
const hook = fc.constantFrom(...HOOKS);

function outcome(h: (typeof HOOKS)[number], text: string): 'ok' | 'refused' | 'invalid' {
  try {
    return parseAnswer(h, text).ok ? 'ok' : 'refused';
  } catch (err) {
    expect(err).toBeInstanceOf(HookFailure);
    expect((err as HookFailure).reason).toBe('answer');
    return 'invalid';
  }
}

const channel = fc.stringMatching(/^[a-z]{1,8}:[a-z0-9]{1,8}$/);
const info = fc.option(fc.jsonValue(), { nil: undefined });

describe('hook answer parser', () => {
  it('never throws anything but an answer failure, whatever the text', () => {
    fc.assert(fc.property(hook, fc.string(), (h, s) => void outcome(h, s)), { numRuns: 500 });
    fc.assert(fc.property(hook, fc.json(), (h, s) => void outcome(h, s)), { numRuns: 500 });
  });

  it('gives back what a valid connect answer carried', () => {
    const result = fc.record(
      { user: fc.string({ minLength: 1, maxLength: 40 }), channels: fc.array(channel, { maxLength: 5 }), info, ttl: fc.integer({ min: 1, max: 86_400 }) },
      { requiredKeys: ['user'] },
    );
    fc.assert(
      fc.property(result, (r) => {
        const answer = parseAnswer('connect', JSON.stringify({ result: r }));
        expect(answer).toEqual({ ok: true, value: JSON.parse(JSON.stringify(r)) });
      }),
    );
  });

  it('gives back a publish rewrite, and a refusal with its code (103 when absent)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.option(fc.integer({ min: 100, max: 199 }), { nil: undefined }), (data, code) => {
        expect(parseAnswer('publish', JSON.stringify({ result: { data } }))).toEqual({ ok: true, value: { data: JSON.parse(JSON.stringify(data)) } });
        const refusal = parseAnswer('subscribe', JSON.stringify({ error: code === undefined ? {} : { code } }));
        expect(refusal).toMatchObject({ ok: false, code: code ?? 103 });
      }),
    );
  });

  it('refuses extra keys, both result and error, bad codes, bad channels, and bad ttls', () => {
    const bad = [
      ['subscribe', '{"result":{},"error":{}}'],
      ['subscribe', '{"result":{},"extra":1}'],
      ['subscribe', '{"allow":true}'],
      ['subscribe', '{"result":{"info":1,"more":2}}'],
      ['subscribe', '{"error":{"code":3500}}'],
      ['subscribe', '[]'],
      ['subscribe', 'null'],
      ['connect', '{"result":{"user":""}}'],
      ['connect', '{"result":{"user":"u","channels":["bad channel"]}}'],
      ['connect', '{"result":{"user":"u","ttl":0}}'],
      ['refresh', '{"result":{}}'],
      ['refresh', '{"result":{"ttl":1.5}}'],
      ['publish', '{"result":{"data":1},"__proto__":{"x":1}}'],
    ] as const;
    for (const [h, text] of bad) expect(outcome(h, text), `${h}: ${text}`).toBe('invalid');
  });

  it('says what was wrong', () => {
    expect(() => parseAnswer('connect', '{"result":{"user":5}}')).toThrow(/result\.user/);
    expect(() => parseAnswer('publish', 'not json')).toThrow(/not JSON/);
  });
});

describe('verdict cache', () => {
  it('holds at most its bound, the latest written, each until its ttl', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 100 })), { maxLength: 200 }), (max, writes) => {
        let now = 0;
        const cache = new VerdictCache<number>(max, () => now);
        for (const [key, ttl] of writes) {
          cache.set(String(key), ttl, ttl);
          expect(cache.size).toBeLessThanOrEqual(max);
          expect(cache.get(String(key))).toBe(ttl);
        }
        now = 101;
        for (const [key] of writes) expect(cache.get(String(key))).toBeUndefined();
      }),
    );
  });
});

describe('hooks configuration', () => {
  it('needs a secret once a hook is on, and refuses header values that cannot be sent', async () => {
    const { parseConfig } = await import('@tidings/server');
    expect(() => parseConfig({ hooks: { subscribe: { url: 'http://127.0.0.1:1/x' } } })).toThrow(/hooks\.secret: a hook is configured/);
    expect(() => parseConfig({ hooks: { namespaces: { jobs: { publish: { url: 'http://127.0.0.1:1/x' } } } } })).toThrow(/hooks\.secret/);
    const secret = 's'.repeat(32);
    expect(() => parseConfig({ hooks: { secret, headers: { 'x-key': 'a\r\nb' } } })).toThrow(/hooks\.headers\.x-key: header values are printable ASCII/);
    expect(() => parseConfig({ hooks: { secret, connect: { url: 'http://127.0.0.1:1/x', failMode: 'open' } } })).toThrow(/hooks\.connect/);
    expect(() => parseConfig({ hooks: { secret, publish: { url: 'http://127.0.0.1:1/x', cacheTtl: '1s' } } })).toThrow(/hooks\.publish/);
    const cfg = parseConfig({ hooks: { secret, subscribe: { url: 'http://127.0.0.1:1/x' }, namespaces: { open: { subscribe: false } } } });
    expect(cfg.hooks.subscribe).toEqual({ url: 'http://127.0.0.1:1/x', timeout: 5000, retries: 1, retryBackoff: 100, failMode: 'closed', cacheTtl: 0 });
    expect(parseConfig({}).hooks).toMatchObject({ maxConcurrency: 64, maxQueue: 1000, cacheMaxEntries: 10_000, maxPublishesPerConnection: 16, namespaces: {} });
  });
});
