/**
 * Property tests for what the network feeds the Pusher endpoint: the frame
 * parser is total (a frame or a PusherFrameError, never anything else), the
 * channel mapping and socket ids are one-to-one, and the signature checks
 * accept exactly what the `pusher` SDK signs and nothing altered.
 */
import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import Pusher from 'pusher';
import { describe, expect, it } from 'vitest';
import { isValidChannel } from '@tidings/protocol';
import { PusherFrameError, encodeEvent, parsePusherFrame } from '../packages/server/dist/pusher/frames.js';
import { isPusherChannel, sessionIdOf, socketIdOf, toPusher, toTidings } from '../packages/server/dist/pusher/names.js';
import { channelAuthValid, checkRequest, requestSigningText, signinValid } from '../packages/server/dist/pusher/signature.js';
import { splitEvent } from '../packages/server/dist/pusher/translate.js';
import { presenceIdentity, signinIdentity } from '../packages/server/dist/pusher/identity.js';

const app = { key: 'app1-key', secret: 'app1-secret-0123456789' };
const sdk = new Pusher({ appId: 'app1', key: app.key, secret: app.secret, host: '127.0.0.1', useTLS: false });
const PUSHER_CHARS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-=@,.;'];
const pusherName = fc.array(fc.constantFrom(...PUSHER_CHARS), { minLength: 1, maxLength: 164 }).map((a) => a.join(''));
const socketId = fc.tuple(fc.nat({ max: 2 ** 36 - 1 }), fc.nat({ max: 2 ** 36 - 1 })).map(([a, b]) => `${a}.${b}`);

function parseOutcome(text: string): 'ok' | 'refused' {
  try {
    parsePusherFrame(text);
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(PusherFrameError);
    return 'refused';
  }
}

const frameValue = fc.oneof(
  fc.jsonValue(),
  fc.record({ event: fc.oneof(fc.constantFrom('pusher:subscribe', 'pusher:unsubscribe', 'pusher:signin', 'pusher:ping', 'client-x'), fc.string()), data: fc.jsonValue(), channel: fc.oneof(pusherName, fc.string()) }, { requiredKeys: ['event'] }),
  fc.record({ event: fc.constant('pusher:subscribe'), data: fc.oneof(fc.record({ channel: pusherName, auth: fc.string(), channel_data: fc.string(), tidings_since: fc.jsonValue(), tidings_positions: fc.jsonValue() }, { requiredKeys: ['channel'] }), fc.string()) }),
);

describe('the Pusher frame parser', () => {
  it('is total on any text and any JSON', () => {
    fc.assert(fc.property(fc.string(), (s) => void parseOutcome(s)), { numRuns: 2000 });
    fc.assert(fc.property(frameValue, (v) => void parseOutcome(JSON.stringify(v))), { numRuns: 3000 });
  });

  it('reads what pusher-js sends, with data as an object or a JSON string', () => {
    fc.assert(
      fc.property(pusherName, fc.boolean(), (channel, asString) => {
        const data = { channel, auth: 'k:sig' };
        const f = parsePusherFrame(JSON.stringify({ event: 'pusher:subscribe', data: asString ? JSON.stringify(data) : data }));
        expect(f).toEqual({ kind: 'subscribe', channel, auth: 'k:sig', positions: false });
      }),
    );
  });

  it('takes tidings_since only as a whole offset and a short epoch', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (since) => {
        const text = JSON.stringify({ event: 'pusher:subscribe', data: { channel: 'a', tidings_since: since } });
        const ok = parseOutcome(text) === 'ok';
        const valid =
          since === null ||
          (typeof since === 'object' && !Array.isArray(since) && Number.isSafeInteger((since as any).offset) && (since as any).offset >= 0 && typeof (since as any).epoch === 'string' && (since as any).epoch.length <= 64);
        expect(ok).toBe(valid);
      }),
      { numRuns: 1000 },
    );
  });

  it('encodes events that decode back to the same event, channel and data', () => {
    fc.assert(
      fc.property(fc.string(), pusherName, fc.string(), fc.option(fc.string(), { nil: undefined }), (event, channel, data, user) => {
        const back = JSON.parse(encodeEvent(event, channel, data, user));
        expect(back).toEqual(user === undefined ? { event, channel, data } : { event, channel, data, user_id: user });
      }),
    );
  });

  it('reads a stored {event, data} as that event, anything else as `message`', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const { event, data } = splitEvent(v);
        if (event !== 'message') expect((v as any).event).toBe(event);
        expect(typeof data).toBe('string');
      }),
    );
  });
});

describe('presence and sign-in identities', () => {
  it('are read from any text without throwing, and only within Pusher\'s limits', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v))), (text) => {
        for (const who of [presenceIdentity(text), signinIdentity(text)]) {
          if (!who.ok) continue;
          expect(who.user.length).toBeGreaterThan(0);
          expect(who.user.length).toBeLessThanOrEqual(128);
          if (who.info !== undefined) expect(Buffer.byteLength(JSON.stringify(who.info))).toBeLessThanOrEqual(1024);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('take what the SDK signs: a numeric user_id as its string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ minLength: 1, maxLength: 128 }), fc.nat()), (id) => {
        const { channel_data } = sdk.authorizeChannel('1.2', 'presence-x', { user_id: id as string, user_info: { n: 1 } });
        expect(presenceIdentity(channel_data!)).toEqual({ ok: true, user: String(id), info: { n: 1 } });
      }),
    );
  });
});

describe('the channel mapping and socket ids', () => {
  it('maps every Pusher channel to a valid Tidings channel and back', () => {
    fc.assert(
      fc.property(pusherName, (name) => {
        expect(isPusherChannel(name)).toBe(true);
        const t = toTidings('app1', name)!;
        expect(isValidChannel(t)).toBe(true);
        expect(toPusher('app1', t)).toBe(name);
        expect(toPusher('app2', t)).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });

  it('writes every session id as a socket id and reads it back', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 9, maxLength: 9 }), (bytes) => {
        const session = Buffer.from(bytes).toString('base64url');
        const id = socketIdOf(session);
        expect(id).toMatch(/^\d+\.\d+$/);
        expect(sessionIdOf(id)).toBe(session);
      }),
    );
    fc.assert(fc.property(fc.string(), (s) => void sessionIdOf(s)));
  });
});

describe('the signature checks', () => {
  it('accept the SDK\'s channel authorization and refuse any other socket, channel or data', () => {
    fc.assert(
      fc.property(socketId, socketId, pusherName, fc.option(fc.dictionary(fc.string(), fc.jsonValue()), { nil: undefined }), (sid, otherSid, name, info) => {
        const channel = `presence-${name}`.slice(0, 164);
        const data = { user_id: 'u1', user_info: info ?? {} };
        const { auth, channel_data } = sdk.authorizeChannel(sid, channel, data);
        expect(channelAuthValid(app, sid, channel, auth, channel_data)).toBe(true);
        if (otherSid !== sid) expect(channelAuthValid(app, otherSid, channel, auth, channel_data)).toBe(false);
        expect(channelAuthValid(app, sid, `${channel}x`.slice(0, 165), auth, channel_data)).toBe(false);
        expect(channelAuthValid(app, sid, channel, auth, `${channel_data} `)).toBe(false);
        expect(channelAuthValid({ ...app, secret: 'another-secret' }, sid, channel, auth, channel_data)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('refuse any altered auth string', () => {
    fc.assert(
      fc.property(socketId, pusherName, fc.string(), (sid, name, junk) => {
        const { auth } = sdk.authorizeChannel(sid, `private-${name}`.slice(0, 164));
        expect(channelAuthValid(app, sid, `private-${name}`.slice(0, 164), auth + junk)).toBe(junk === '');
        expect(channelAuthValid(app, sid, `private-${name}`.slice(0, 164), junk)).toBe(junk === auth);
      }),
    );
  });

  it('accept the SDK\'s user authentication and nothing altered', () => {
    fc.assert(
      fc.property(socketId, fc.string({ minLength: 1 }), (sid, id) => {
        const { auth, user_data } = sdk.authenticateUser(sid, { id });
        expect(signinValid(app, sid, auth, user_data)).toBe(true);
        expect(signinValid(app, sid, auth, user_data.replace('}', ',"x":1}'))).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('check a request\'s key, timestamp window, body and signature', () => {
    const now = 1_800_000_000;
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: -2000, max: 2000 }), fc.constantFrom('GET', 'POST'), (body, skew, method) => {
        const path = '/apps/app1/events';
        const params: Record<string, string> = { auth_key: app.key, auth_timestamp: String(now + skew), auth_version: '1.0' };
        if (body) params.body_md5 = createHash('md5').update(body).digest('hex');
        const q = new URLSearchParams(params);
        const signature = createHmac('sha256', app.secret).update(requestSigningText(method, path, q)).digest('hex');
        q.set('auth_signature', signature);
        const r = checkRequest(app, method, path, q, body, now);
        expect(r.ok).toBe(Math.abs(skew) <= 600);
        if (Math.abs(skew) <= 600) {
          expect(checkRequest(app, method, `${path}x`, q, body, now).ok).toBe(false);
          expect(checkRequest(app, method, path, q, `${body}!`, now).ok).toBe(false);
          expect(checkRequest({ ...app, secret: 'x-other-secret' }, method, path, q, body, now).ok).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });
});
