/**
 * Shared by the Pusher tests: one app's credentials, a gateway serving it,
 * real pusher-js clients (Node build) authorized by the real `pusher` server
 * SDK, and waiting on pusher-js events.
 */
import Pusher from 'pusher';
import PusherJsModule from 'pusher-js';
import { type TestGateway, startTestGateway, until } from './helpers.js';

/** pusher-js's Node build exports the class itself; its typings say `default`. */
export const PusherJs = PusherJsModule as unknown as typeof PusherJsModule.default;
export type PusherClient = InstanceType<typeof PusherJs>;
type Channel = ReturnType<PusherClient['subscribe']>;

export const APP = { id: 'app1', key: 'app1-key', secret: 'app1-secret-0123456789' };

export function pusherConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { pusher: { apps: [{ ...APP, ...extra }] } };
}

export function startPusherGateway(extra: Record<string, unknown> = {}, config: Record<string, unknown> = {}): Promise<TestGateway> {
  return startTestGateway({ ...pusherConfig(extra), ...config });
}

/** The real server SDK, pointed at a gateway. */
export function serverSdk(port: number, app = APP): Pusher {
  return new Pusher({ appId: app.id, key: app.key, secret: app.secret, host: '127.0.0.1', port: String(port), useTLS: false });
}

export interface ClientOptions {
  user?: { id: string; info?: Record<string, unknown> };
  /** Sign channel authorizations with this secret instead of the app's (a wrong-signature test). */
  secret?: string;
  /** The backend SDK that signs authorizations (one with an encryption master key, say). */
  signer?: Pusher;
}

/** A real pusher-js client; channel authorization and sign-in are signed by the server SDK, as a backend's /pusher/auth would. */
export function pusherClient(port: number, opts: ClientOptions = {}): PusherClient {
  const signer = opts.signer ?? serverSdk(port, opts.secret ? { ...APP, secret: opts.secret } : APP);
  const presence = opts.user ? { user_id: opts.user.id, user_info: opts.user.info ?? {} } : undefined;
  return new PusherJs(APP.key, {
    cluster: 'local',
    wsHost: '127.0.0.1',
    wsPort: port,
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
    channelAuthorization: {
      endpoint: '/unused',
      transport: 'ajax',
      customHandler: ({ socketId, channelName }: { socketId: string; channelName: string }, callback: (err: Error | null, data: any) => void) => callback(null, signer.authorizeChannel(socketId, channelName, channelName.startsWith('presence-') ? presence : undefined)),
    },
    userAuthentication: {
      endpoint: '/unused',
      transport: 'ajax',
      customHandler: ({ socketId }: { socketId: string }, callback: (err: Error | null, data: any) => void) => callback(null, signer.authenticateUser(socketId, { id: opts.user?.id ?? 'nobody', ...(opts.user?.info ?? {}) })),
    },
  });
}

export async function connected(p: PusherClient): Promise<PusherClient> {
  await until(() => p.connection.state === 'connected', 10_000, 'pusher-js connected');
  return p;
}

/** Subscribe and wait for pusher:subscription_succeeded; rejects on pusher:subscription_error. */
export function subscribed(p: PusherClient, name: string): Promise<{ channel: Channel; data: any }> {
  const channel = p.subscribe(name);
  return new Promise((resolve, reject) => {
    channel.bind('pusher:subscription_succeeded', (data: unknown) => resolve({ channel, data }));
    channel.bind('pusher:subscription_error', (err: unknown) => reject(new Error(`subscription_error: ${JSON.stringify(err)}`)));
  });
}

/** Every event of `name` on a channel, in arrival order. */
export function collect(channel: Channel, event: string): any[] {
  const got: unknown[] = [];
  channel.bind(event, (data: unknown) => got.push(data));
  return got;
}
