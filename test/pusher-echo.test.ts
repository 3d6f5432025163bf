/**
 * Laravel Echo (with pusher-js, its `pusher` broadcaster) against Tidings, as
 * a Laravel front end uses it: public and private channels with Laravel's
 * namespaced event names, presence with here/joining/leaving, whispers. The
 * backend side is the `pusher` server SDK, as Laravel's Pusher driver is.
 */
import { afterEach, describe, expect, it } from 'vitest';
import Echo from 'laravel-echo';
import { type TestGateway, until } from './helpers.js';
import { APP, PusherJs, serverSdk, startPusherGateway } from './pusher-helpers.js';

let gateway: TestGateway | undefined;
const echoes: Array<Echo<'pusher'>> = [];

afterEach(async () => {
  for (const e of echoes.splice(0)) e.disconnect();
  await gateway?.close();
  gateway = undefined;
});

/** An Echo instance whose channel authorization is signed like Laravel's /broadcasting/auth would. */
function echo(port: number, user: { id: string; name: string }): Echo<'pusher'> {
  const sdk = serverSdk(port);
  const e = new Echo({
    broadcaster: 'pusher',
    Pusher: PusherJs as never, // Echo's typings want the module namespace; at run time it takes the class
    key: APP.key,
    cluster: 'local',
    wsHost: '127.0.0.1',
    wsPort: port,
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
    authorizer: (channel: { name: string }) => ({
      authorize: (socketId: string, callback: (err: Error | null, data: { auth: string; channel_data?: string }) => void) =>
        callback(null, sdk.authorizeChannel(socketId, channel.name, channel.name.startsWith('presence-') ? { user_id: user.id, user_info: { name: user.name } } : undefined)),
    }),
  });
  echoes.push(e);
  return e;
}

describe('Laravel Echo with pusher-js', () => {
  it('listens to public and private channels with Laravel event names', async () => {
    gateway = await startPusherGateway();
    const e = echo(gateway.port, { id: '1', name: 'Taylor' });
    const shipped: unknown[] = [];
    const updated: unknown[] = [];
    let subscribed = 0;
    e.channel('orders').listen('OrderShipped', (d: unknown) => shipped.push(d)).subscribed(() => subscribed++);
    e.private('orders.1').listen('.status.updated', (d: unknown) => updated.push(d)).subscribed(() => subscribed++);
    await until(() => subscribed === 2);
    const sdk = serverSdk(gateway.port);
    // Laravel broadcasts `App\Events\OrderShipped`; Echo prefixes the namespace, a leading dot opts out.
    await sdk.trigger('orders', 'App\\Events\\OrderShipped', { order: { id: 1 } });
    await sdk.trigger('private-orders.1', 'status.updated', { status: 'shipped' });
    await until(() => shipped.length === 1 && updated.length === 1);
    expect(shipped).toEqual([{ order: { id: 1 } }]);
    expect(updated).toEqual([{ status: 'shipped' }]);
  });

  it('joins a presence channel: here, joining, leaving, whispers', async () => {
    gateway = await startPusherGateway();
    const taylor = echo(gateway.port, { id: '1', name: 'Taylor' });
    let here: Array<{ name: string }> = [];
    const joining: unknown[] = [];
    const leaving: unknown[] = [];
    const typing: unknown[] = [];
    taylor
      .join('chat.1')
      .here((users: Array<{ name: string }>) => (here = users))
      .joining((u: unknown) => joining.push(u))
      .leaving((u: unknown) => leaving.push(u))
      .listenForWhisper('typing', (d: unknown) => typing.push(d));
    await until(() => here.length === 1);
    expect(here).toEqual([{ name: 'Taylor' }]);

    const abigail = echo(gateway.port, { id: '2', name: 'Abigail' });
    let abigailHere: Array<{ name: string }> = [];
    const room = abigail.join('chat.1').here((users: Array<{ name: string }>) => (abigailHere = users));
    await until(() => abigailHere.length === 2 && joining.length === 1);
    expect(abigailHere.map((u) => u.name).sort()).toEqual(['Abigail', 'Taylor']);
    expect(joining).toEqual([{ name: 'Abigail' }]);

    room.whisper('typing', { name: 'Abigail' });
    await until(() => typing.length === 1);
    expect(typing).toEqual([{ name: 'Abigail' }]);

    abigail.leave('chat.1');
    await until(() => leaving.length === 1);
    expect(leaving).toEqual([{ name: 'Abigail' }]);
  });
});
