// @vitest-environment jsdom
/**
 * The provider and the subscription sharing under React strict mode, against
 * a real gateway: one socket per provider, one subscribe per channel on the
 * wire and one subscriber on the server, whatever strict mode and several
 * components on one channel do; unmount cleans up; the connection states.
 */
import { act, cleanup, render, waitFor } from '@testing-library/react';
import { StrictMode, useState } from 'react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Publication, UnauthorizedError, createClient } from '@tidings/client';
import { type ConnectionState, TidingsProvider, useConnectionState, useSubscription } from '@tidings/react';
import { type TestGateway, startTestGateway } from '../../../test/helpers.js';
import { RecordingWebSocket, app, h, serverSubscribers, token } from './react-helpers.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ namespaces: { room: { publish: 'subscribers', presence: true, joinLeave: true } } });
});
afterAll(() => t.close());
afterEach(() => {
  cleanup();
  RecordingWebSocket.reset();
});

function Feed({ channel, log }: { channel: string; log: Publication[] }) {
  // A new callback on every render: must not resubscribe.
  useSubscription(channel, (p) => log.push(p));
  return null;
}

function Status({ seen }: { seen: ConnectionState[] }) {
  const s = useConnectionState();
  if (seen[seen.length - 1] !== s) seen.push(s);
  return h('span', { 'data-testid': 'state' }, s.state);
}

describe('TidingsProvider in strict mode', () => {
  it('opens one socket and sends one subscribe for two components on one channel', async () => {
    const a: Publication[] = [];
    const b: Publication[] = [];
    const seen: ConnectionState[] = [];
    const view = render(app(t, 'alice', [h(Status, { key: 's', seen }), h(Feed, { key: 'a', channel: 'room:1', log: a }), h(Feed, { key: 'b', channel: 'room:1', log: b })]));
    await waitFor(() => expect(view.getByTestId('state').textContent).toBe('connected'));
    await waitFor(async () => expect(await serverSubscribers(t, 'room:1')).toBe(1));
    expect(RecordingWebSocket.sockets).toHaveLength(1);
    expect(RecordingWebSocket.subscribes('room:1')).toBe(1);
    expect(t.gw.connections).toBe(1);

    await t.publish('room:1', { n: 1 });
    await t.publish('room:1', { n: 2 });
    await waitFor(() => expect(a.map((p) => p.data)).toEqual([{ n: 1 }, { n: 2 }]));
    expect(b.map((p) => p.data)).toEqual([{ n: 1 }, { n: 2 }]);
    // Re-rendering with new callbacks sends nothing.
    view.rerender(app(t, 'alice', [h(Status, { key: 's', seen }), h(Feed, { key: 'a', channel: 'room:1', log: a }), h(Feed, { key: 'b', channel: 'room:1', log: b })]));
    expect(RecordingWebSocket.subscribes('room:1')).toBe(1);
    expect(seen.map((s) => s.state)).toEqual(['disconnected', 'connecting', 'connected']);
    expect(seen[2]!.transport).toBe('websocket');
    expect(seen[2]!.session?.user).toBe('alice');

    view.unmount();
    await waitFor(() => expect(t.gw.connections).toBe(0));
    expect(RecordingWebSocket.sockets[0]!.readyState).toBe(WebSocket.CLOSED);
  });

  it('one subscription per channel after mount, unmount, mount; the last holder unsubscribes', async () => {
    const log: Publication[] = [];
    let setShown: (n: number) => void = () => {};
    function Toggle() {
      const [shown, set] = useState(1);
      setShown = set;
      return h('div', null, Array.from({ length: shown }, (_, i) => h(Feed, { key: i, channel: 'room:2', log })));
    }
    const view = render(app(t, 'bob', [h(Status, { key: 's', seen: [] }), h(Toggle, { key: 't' })]));
    await waitFor(() => expect(view.getByTestId('state').textContent).toBe('connected'));
    await waitFor(async () => expect(await serverSubscribers(t, 'room:2')).toBe(1));

    // A second component on the same channel: shared, nothing on the wire.
    act(() => setShown(2));
    await waitFor(async () => expect(await serverSubscribers(t, 'room:2')).toBe(1));
    expect(RecordingWebSocket.subscribes('room:2')).toBe(1);

    // Unmount both: the subscription goes, on the wire and on the server.
    act(() => setShown(0));
    await waitFor(async () => expect(await serverSubscribers(t, 'room:2')).toBe(0));
    expect(RecordingWebSocket.unsubscribes('room:2')).toBe(1);

    // Mount again: exactly one new subscribe, one subscriber, publications once.
    act(() => setShown(1));
    await waitFor(async () => expect(await serverSubscribers(t, 'room:2')).toBe(1));
    expect(RecordingWebSocket.subscribes('room:2')).toBe(2);
    await t.publish('room:2', 'hello');
    await waitFor(() => expect(log.map((p) => p.data)).toEqual(['hello']));
    expect(RecordingWebSocket.sockets).toHaveLength(1);
  });

  it('a component remounted in one commit (key change) keeps the subscription: nothing on the wire', async () => {
    const log: Publication[] = [];
    const tree = (key: string) => app(t, 'bob', [h(Status, { key: 's', seen: [] }), h(Feed, { key, channel: 'room:5', log })]);
    const view = render(tree('a'));
    await waitFor(async () => expect(await serverSubscribers(t, 'room:5')).toBe(1));
    await waitFor(() => expect(view.getByTestId('state').textContent).toBe('connected'));
    view.rerender(tree('b'));
    view.rerender(tree('c'));
    await t.publish('room:5', 'after remounts');
    await waitFor(() => expect(log.map((p) => p.data)).toEqual(['after remounts']));
    expect(RecordingWebSocket.subscribes('room:5')).toBe(1);
    expect(RecordingWebSocket.unsubscribes('room:5')).toBe(0);
  });

  it('a provider given a connected client keeps its one socket through strict mode', async () => {
    const client = createClient({ url: t.wsUrl, token: token('gina'), WebSocket: RecordingWebSocket });
    client.connect();
    await client.ready(5000);
    const id = client.session!.client;
    let connecting = 0;
    client.on('connecting', () => connecting++);
    const view = render(h(StrictMode, null, h(TidingsProvider, { client }, h(Status, { seen: [] }))));
    expect(view.getByTestId('state').textContent).toBe('connected');
    // A round trip on the client's own socket: the reply comes in a later macrotask than the
    // provider's deferred disconnect would have run, so a stray disconnect → connect shows by now.
    expect((await client.presence('room:6')).clients).toEqual([]);
    expect(connecting).toBe(0);
    expect(client.state).toBe('connected');
    expect(client.session?.client).toBe(id);
    expect(RecordingWebSocket.sockets).toHaveLength(1);
    view.unmount();
    await waitFor(() => expect(client.state).toBe('disconnected'));
  });

  it('a channel of null subscribes to nothing, and switching channels moves the subscription', async () => {
    const log: Publication[] = [];
    function Switch({ channel }: { channel: string | null }) {
      useSubscription(channel, (p) => log.push(p));
      return null;
    }
    const tree = (channel: string | null) => app(t, 'carol', [h(Status, { key: 's', seen: [] }), h(Switch, { key: 'w', channel })]);
    const view = render(tree(null));
    await waitFor(() => expect(view.getByTestId('state').textContent).toBe('connected'));
    expect(RecordingWebSocket.frames.filter((f) => f.method === 'subscribe')).toHaveLength(0);
    view.rerender(tree('room:3'));
    await waitFor(async () => expect(await serverSubscribers(t, 'room:3')).toBe(1));
    view.rerender(tree('room:4'));
    await waitFor(async () => expect(await serverSubscribers(t, 'room:4')).toBe(1));
    await waitFor(async () => expect(await serverSubscribers(t, 'room:3')).toBe(0));
    await t.publish('room:3', 'old');
    await t.publish('room:4', 'new');
    await waitFor(() => expect(log.map((p) => p.data)).toEqual(['new']));
  });
});

describe('useConnectionState', () => {
  it('connecting, connected, reconnecting when the gateway goes, connected again when it is back', async () => {
    const own = await startTestGateway();
    const seen: ConnectionState[] = [];
    const view = render(app(own, 'dave', h(Status, { seen })));
    await waitFor(() => expect(view.getByTestId('state').textContent).toBe('connected'));
    const port = own.port;
    await own.close();
    await waitFor(() => expect(view.getByTestId('state').textContent).toBe('reconnecting'));
    const reconnecting = seen.find((s) => s.state === 'reconnecting')!;
    expect(reconnecting.error).not.toBeNull();
    expect(reconnecting.session).toBeNull();
    const again = await startTestGateway({}, port);
    try {
      await waitFor(() => expect(view.getByTestId('state').textContent).toBe('connected'), { timeout: 10_000 });
      const states = seen.map((s) => s.state);
      expect(states.slice(0, 3)).toEqual(['disconnected', 'connecting', 'connected']);
      expect(states[states.length - 1]).toBe('connected');
      // After the first connect: only reconnecting and connected, never a flash of "connecting".
      expect(new Set(states.slice(3))).toEqual(new Set(['reconnecting', 'connected']));
      expect(states[3]).toBe('reconnecting');
    } finally {
      view.unmount();
      await again.close();
    }
  });

  it('failed, with the reason, when getToken refuses for good', async () => {
    const seen: ConnectionState[] = [];
    const view = render(
      app(t, 'eve', h(Status, { seen }), t.wsUrl, {
        getToken: () => {
          throw new UnauthorizedError('logged out');
        },
      }),
    );
    await waitFor(() => expect(view.getByTestId('state').textContent).toBe('failed'));
    const failed = seen[seen.length - 1]!;
    expect(failed.error?.message).toBe('logged out');
    expect(failed.error?.code).toBe(3500);
    expect(seen.map((s) => s.state)).toEqual(['disconnected', 'connecting', 'failed']);
  });

  it('failed on a terminal close code (a token the gateway refuses)', async () => {
    const seen: ConnectionState[] = [];
    const view = render(app(t, 'frank', h(Status, { seen }), t.wsUrl, { getToken: () => 'not-a-jwt' }));
    await waitFor(() => expect(view.getByTestId('state').textContent).toBe('failed'));
    expect(seen[seen.length - 1]!.error?.code).toBe(3500);
    expect(seen.map((s) => s.state)).not.toContain('reconnecting');
  });

  it('throws a clear error outside a provider', () => {
    const orig = console.error;
    console.error = () => {};
    try {
      expect(() => render(h(Status, { seen: [] }))).toThrow(/inside <TidingsProvider>/);
    } finally {
      console.error = orig;
    }
  });
});
