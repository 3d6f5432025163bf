/**
 * Pusher apps from the config file and from TIDINGS_PUSHER_*, with their
 * checks; and the encode-once rule: one publication's Pusher bytes are built
 * once and shared by every Pusher subscriber.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '@tidings/server';
import { SharedFrame } from '../packages/server/dist/wire/shared-frame.js';
import { encodePub } from '../packages/server/dist/wire/encode.js';
import { translate, PusherEvent } from '../packages/server/dist/pusher/translate.js';
import { API_KEY, SECRET } from './helpers.js';

const base = { TIDINGS_API_KEY: API_KEY, TIDINGS_TOKEN_SECRET: SECRET };

describe('pusher config', () => {
  it('takes one app from the environment, with the defaults', () => {
    const { config } = loadConfig({ env: { ...base, TIDINGS_PUSHER_APP_ID: 'shop', TIDINGS_PUSHER_KEY: 'shop-key', TIDINGS_PUSHER_SECRET: 'a-long-random-secret' } });
    expect(config.pusher.apps).toEqual([
      { id: 'shop', key: 'shop-key', secret: 'a-long-random-secret', clientEvents: true, maxConnections: 0, maxPresenceMembers: 100, maxEventBytes: 10_240, allowedOrigins: [], webhooks: [] },
    ]);
  });

  it("takes that app's webhook URL from the environment, with every event", () => {
    const env = { ...base, TIDINGS_PUSHER_APP_ID: 'shop', TIDINGS_PUSHER_KEY: 'shop-key', TIDINGS_PUSHER_SECRET: 'a-long-random-secret', TIDINGS_PUSHER_WEBHOOK_URL: 'https://shop.example/hooks' };
    const { config } = loadConfig({ env });
    expect(config.pusher.apps[0]!.webhooks).toEqual([
      { url: 'https://shop.example/hooks', events: ['channel_occupied', 'channel_vacated', 'member_added', 'member_removed', 'client_event'] },
    ]);
    const { TIDINGS_PUSHER_APP_ID: _, ...half } = env;
    expect(() => loadConfig({ env: half })).toThrow(/go together/);
  });

  it('checks the webhooks of an app: URLs, event names, each URL once', () => {
    const app = { id: 'a', key: 'k', secret: 'secret-123' };
    const hooks = (webhooks: unknown) => parseConfig({ pusher: { apps: [{ ...app, webhooks }] } }).pusher.apps[0]!.webhooks;
    expect(hooks([{ url: 'http://127.0.0.1:9/x', events: ['client_event'] }])).toEqual([{ url: 'http://127.0.0.1:9/x', events: ['client_event'] }]);
    expect(() => hooks([{ url: 'ftp://x' }])).toThrow(/http/);
    expect(() => hooks([{ url: 'http://x/', events: ['client_publication'] }])).toThrow(ConfigError);
    expect(() => hooks([{ url: 'http://x/' }, { url: 'http://x/' }])).toThrow(/each webhook URL once/);
  });

  it('refuses half of the environment trio, naming the variables', () => {
    expect(() => loadConfig({ env: { ...base, TIDINGS_PUSHER_APP_ID: 'shop', TIDINGS_PUSHER_KEY: 'shop-key' } })).toThrow(
      /TIDINGS_PUSHER_APP_ID, TIDINGS_PUSHER_KEY and TIDINGS_PUSHER_SECRET go together/,
    );
  });

  it('refuses duplicate ids or keys and names outside the charset', () => {
    const app = { id: 'a', key: 'k', secret: 'secret-123' };
    expect(() => parseConfig({ pusher: { apps: [app, { ...app, id: 'b' }] } })).toThrow(ConfigError);
    expect(() => parseConfig({ pusher: { apps: [app, { ...app, id: 'b' }] } })).toThrow(/key "k"/);
    expect(() => parseConfig({ pusher: { apps: [{ ...app, id: 'a/b' }] } })).toThrow(/pusher.apps.0.id/);
    expect(parseConfig({}).pusher).toEqual({ apps: [] });
  });
});

describe('the Pusher bytes of a publication', () => {
  it('are built once and shared by every subscriber of the frame', () => {
    const pub = { channel: 'pusher.shop:orders', offset: 3, epoch: 'e1', data: '{"event":"placed","data":{"id":1}}', time: 1 };
    const frame = new SharedFrame(encodePub(pub), pub);
    const first = translate(frame) as InstanceType<typeof PusherEvent>;
    expect(first).toBeInstanceOf(PusherEvent);
    expect(translate(frame)).toBe(first);
    const bytes = first.bytes('orders', false);
    expect(first.bytes('orders', false)).toBe(bytes);
    expect(first.bytes('orders', true)).toBe(first.bytes('orders', true));
    expect(bytes.subarray(2).toString()).toBe('{"event":"placed","channel":"orders","data":"{\\"id\\":1}"}');
  });
});
