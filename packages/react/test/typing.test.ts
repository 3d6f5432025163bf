// @vitest-environment jsdom
/**
 * useTyping on the gateway's ephemeral signals: another user sees you type,
 * you never see yourself, your other tab does; keystrokes are throttled on
 * the wire; setTyping(false), unmount and the server-side ttl each clear it.
 */
import { act, cleanup, render, waitFor } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type UseTypingResult, useTyping } from '@tidings/react';
import { type TestGateway, startProxy, startTestGateway } from '../../../test/helpers.js';
import { RecordingWebSocket, app, h, serverSubscribers } from './react-helpers.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ namespaces: { chat: { publish: 'subscribers', signals: true } } });
});
afterAll(() => t.close());
afterEach(() => {
  cleanup();
  RecordingWebSocket.reset();
});

type Out = { current?: UseTypingResult };

function Composer({ channel, id, out, ttl }: { channel: string; id: string; out: Out; ttl?: number }) {
  const r = useTyping(channel, ttl ? { ttl, throttle: ttl / 2 } : {});
  out.current = r;
  return h('span', { 'data-testid': id }, r.typing.join(','));
}

/** The sockets that connected as `user`, oldest first. */
function socketsOf(user: string): RecordingWebSocket[] {
  return RecordingWebSocket.sockets.filter((s) => {
    const connect = s.sent.find((f) => f.method === 'connect');
    const payload = connect && JSON.parse(Buffer.from(connect.params.token.split('.')[1], 'base64url').toString());
    return payload?.sub === user;
  });
}

function socketOf(user: string): RecordingWebSocket | undefined {
  return socketsOf(user)[0];
}

/** The connect reply on `socket` resubscribed `channel`. */
function resubscribed(socket: RecordingWebSocket | undefined, channel: string): boolean {
  return !!socket?.received.some((f) => f.result?.subs?.some((r: any) => r.channel === channel));
}

/** The signal commands sent on the socket that connected as `user`. */
function signalsSentBy(user: string): any[] {
  return socketOf(user)?.sent.filter((f) => f.method === 'signal') ?? [];
}

async function live(channel: string, n: number): Promise<void> {
  await waitFor(async () => expect(await serverSubscribers(t, channel)).toBe(n));
}

describe('useTyping', () => {
  it('shows who types to the others, throttles, and clears on setTyping(false)', async () => {
    const a: Out = {};
    const b: Out = {};
    const av = render(app(t, 'alice', h(Composer, { channel: 'chat:t1', id: 'a', out: a })));
    const bv = render(app(t, 'bob', h(Composer, { channel: 'chat:t1', id: 'b', out: b })));
    await live('chat:t1', 2);

    // Ten keystrokes in a burst: one signal on the wire.
    act(() => {
      for (let i = 0; i < 10; i++) a.current!.setTyping(true);
    });
    await waitFor(() => expect(bv.getByTestId('b').textContent).toBe('alice'));
    expect(signalsSentBy('alice')).toHaveLength(1);
    expect(signalsSentBy('alice')[0].params).toMatchObject({ channel: 'chat:t1', key: 'typing', ttl: 5000 });
    expect(b.current!.typists[0]?.user).toBe('alice');
    expect(av.getByTestId('a').textContent).toBe(''); // never yourself
    // A render that changes nothing hands out the same arrays (computed once per change).
    const { typing, typists } = b.current!;
    bv.rerender(app(t, 'bob', h(Composer, { channel: 'chat:t1', id: 'b', out: b })));
    expect(b.current!.typing).toBe(typing);
    expect(b.current!.typists).toBe(typists);

    act(() => a.current!.setTyping(false));
    await waitFor(() => expect(bv.getByTestId('b').textContent).toBe(''));
    expect(signalsSentBy('alice').at(-1).params).toMatchObject({ key: 'typing', data: null });
  });

  it('another tab of the same user sees it; unmounting the typist clears it', async () => {
    const tab1: Out = {};
    const tab2: Out = {};
    const v1 = render(app(t, 'carol', h(Composer, { channel: 'chat:t2', id: 't1', out: tab1 })));
    const v2 = render(app(t, 'carol', h(Composer, { channel: 'chat:t2', id: 't2', out: tab2 })));
    await live('chat:t2', 2);
    act(() => tab2.current!.setTyping(true));
    await waitFor(() => expect(v1.getByTestId('t1').textContent).toBe('carol'));
    v2.unmount();
    await waitFor(() => expect(v1.getByTestId('t1').textContent).toBe(''));
  });

  it('a lost subscription empties the list (a clear may be missed while away); typing shows again once back', async () => {
    const proxy = await startProxy(t.port);
    try {
      const a: Out = {};
      const b: Out = {};
      render(app(t, 'fay', h(Composer, { channel: 'chat:t4', id: 'a', out: a })));
      const bv = render(app(t, 'gil', h(Composer, { channel: 'chat:t4', id: 'b', out: b }), proxy.wsUrl));
      await live('chat:t4', 2);
      act(() => a.current!.setTyping(true));
      await waitFor(() => expect(bv.getByTestId('b').textContent).toBe('fay'));
      proxy.block();
      proxy.drop();
      await waitFor(() => expect(bv.getByTestId('b').textContent).toBe(''));
      proxy.unblock();
      await waitFor(() => expect(socketsOf('gil')).toHaveLength(2));
      await waitFor(() => expect(resubscribed(socketsOf('gil')[1], 'chat:t4')).toBe(true));
      act(() => a.current!.setTyping(false));
      act(() => a.current!.setTyping(true));
      await waitFor(() => expect(bv.getByTestId('b').textContent).toBe('fay'));
    } finally {
      await proxy.close();
    }
  });

  it('the gateway expires a typing signal that is not renewed', async () => {
    const a: Out = {};
    const b: Out = {};
    render(app(t, 'dora', h(Composer, { channel: 'chat:t3', id: 'a', out: a, ttl: 300 })));
    const bv = render(app(t, 'emil', h(Composer, { channel: 'chat:t3', id: 'b', out: b })));
    await live('chat:t3', 2);
    act(() => a.current!.setTyping(true));
    await waitFor(() => expect(bv.getByTestId('b').textContent).toBe('dora'));
    // Nothing more from dora: the server's `cleared` push (after ttl 300 ms) empties the list.
    await waitFor(() => expect(bv.getByTestId('b').textContent).toBe(''), { timeout: 5000 });
    expect(signalsSentBy('dora')).toHaveLength(1);
    // It was the gateway's expiry that cleared it (not the hook's own backup timer).
    const pushes = socketOf('emil')!.received.filter((f) => f.type === 'signal');
    expect(pushes.map((f) => f.cleared ?? false)).toEqual([false, true]);
    expect(pushes[1]).toMatchObject({ channel: 'chat:t3', key: 'typing', cleared: true, data: null });
  });
});
