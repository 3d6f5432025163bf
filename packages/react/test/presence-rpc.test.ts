// @vitest-environment jsdom
/**
 * usePresence and useRpc against a real gateway. Presence: the initial list,
 * joins and leaves from other users' providers, one entry per connection
 * however many components of one provider watch the channel. RPC: streamed
 * chunks then the result, cancel that reaches the handler's signal, errors,
 * and cancel on unmount.
 */
import { act, cleanup, fireEvent, render, waitFor } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PresenceEntry } from '@tidings/client';
import { RpcError } from '@tidings/server';
import { TidingsProvider, type UseRpcResult, useClient, usePresence, useRpc, useSubscription } from '@tidings/react';
import { useEffect, useState } from 'react';
import { type TestGateway, startTestGateway } from '../../../test/helpers.js';
import { RecordingWebSocket, app, h, token } from './react-helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let t: TestGateway;
const aborted = new Set<string>();
beforeAll(async () => {
  t = await startTestGateway({ namespaces: { room: { publish: 'subscribers', presence: true, joinLeave: true } } });
  t.gw.rpc('count', async function* (n) {
    for (let i = 0; i < (n as number); i++) yield i;
    return { total: n };
  });
  t.gw.rpc('forever', async function* (tag, ctx) {
    ctx.signal.addEventListener('abort', () => aborted.add(tag as string));
    for (let i = 0; i < 1000 && !ctx.signal.aborted; i++) {
      yield i;
      await sleep(10);
    }
    return 'never';
  });
  t.gw.rpc('deny', () => {
    throw new RpcError(403, 'not for you');
  });
});
afterAll(() => t.close());
afterEach(() => {
  cleanup();
  RecordingWebSocket.reset();
});

const names = (list: PresenceEntry[]) => list.map((m) => m.user).sort().join(',');

function Members({ channel, id }: { channel: string; id: string }) {
  const members = usePresence(channel);
  return h('span', { 'data-testid': id }, names(members));
}

describe('usePresence', () => {
  it('lists members, follows joins and leaves, one entry per connection', async () => {
    // Three components of one provider on the channel: still one connection in the list.
    function Alice() {
      useSubscription('room:p', () => {});
      return h('div', null, h(Members, { channel: 'room:p', id: 'a1' }), h(Members, { channel: 'room:p', id: 'a2' }));
    }
    const a = render(app(t, 'alice', h(Alice)));
    await waitFor(() => expect(a.getByTestId('a1').textContent).toBe('alice'));
    expect(a.getByTestId('a2').textContent).toBe('alice');
    expect((await t.api('/api/presence', { channel: 'room:p' })).body.clients).toHaveLength(1);

    const b = render(app(t, 'bob', h(Members, { channel: 'room:p', id: 'b' })));
    await waitFor(() => expect(a.getByTestId('a1').textContent).toBe('alice,bob'));
    await waitFor(() => expect(b.getByTestId('b').textContent).toBe('alice,bob'));
    expect(a.getByTestId('a2').textContent).toBe('alice,bob');

    // Bob's second tab: another connection, another entry.
    const b2 = render(app(t, 'bob', h(Members, { channel: 'room:p', id: 'b2' })));
    await waitFor(() => expect(a.getByTestId('a1').textContent).toBe('alice,bob,bob'));

    b.unmount();
    b2.unmount();
    await waitFor(() => expect(a.getByTestId('a1').textContent).toBe('alice'));
    expect((await t.api('/api/presence', { channel: 'room:p' })).body.clients).toHaveLength(1);
  });

  it('reports presence() errors (presence off for the namespace) without crashing', async () => {
    const errors: Error[] = [];
    function Off() {
      const members = usePresence('off:1', { onError: (e) => errors.push(e) });
      return h('span', { 'data-testid': 'off' }, `n=${members.length}`);
    }
    const view = render(app(t, 'carl', h(Off)));
    await waitFor(() => expect(errors).toHaveLength(1));
    expect(view.getByTestId('off').textContent).toBe('n=0');
  });
});

function Caller({ method, out, client }: { method: string; out: { current?: UseRpcResult<unknown, unknown, number> }; client?: { current?: ReturnType<typeof useClient> } }) {
  const rpc = useRpc<unknown, unknown, number>(method);
  out.current = rpc;
  const c = useClient();
  if (client) client.current = c;
  return h('span', { 'data-testid': 'rpc' }, `${rpc.status}|${rpc.chunks.join(',')}|${JSON.stringify(rpc.result ?? null)}`);
}

describe('useRpc', () => {
  it('streams chunks, then the result', async () => {
    const out: { current?: UseRpcResult<unknown, unknown, number> } = {};
    const view = render(app(t, 'dora', h(Caller, { method: 'count', out })));
    // Called while still connecting: the call waits for the connection.
    let result: unknown;
    await act(async () => {
      result = await out.current!.call(4);
    });
    expect(result).toEqual({ total: 4 });
    expect(view.getByTestId('rpc').textContent).toBe('done|0,1,2,3|{"total":4}');
    expect(out.current!.pending).toBe(false);

    // A second call starts from empty chunks.
    await act(async () => {
      await out.current!.call(2);
    });
    expect(view.getByTestId('rpc').textContent).toBe('done|0,1|{"total":2}');
  });

  it('cancel() stops the call on the server', async () => {
    const out: { current?: UseRpcResult<unknown, unknown, number> } = {};
    const client: { current?: ReturnType<typeof useClient> } = {};
    const view = render(app(t, 'emil', h(Caller, { method: 'forever', out, client })));
    let done: Promise<unknown> = Promise.resolve();
    act(() => {
      done = out.current!.call('cancel-me');
    });
    await waitFor(() => expect(out.current!.chunks.length).toBeGreaterThanOrEqual(3));
    expect(out.current!.pending).toBe(true);
    act(() => out.current!.cancel());
    expect(await done).toBeUndefined();
    await waitFor(() => expect(aborted.has('cancel-me')).toBe(true));
    expect(out.current!.status).toBe('cancelled');
    expect(out.current!.error).toBeNull();
    const shown = view.getByTestId('rpc').textContent;
    // A second RPC on the same connection: the gateway handles the cancel before it and sends no
    // chunk of the first call after the cancel, so by its reply every late chunk has arrived.
    const first = RecordingWebSocket.frames.find((f) => f.method === 'rpc' && f.params?.data === 'cancel-me')!;
    const sockets = RecordingWebSocket.sockets.length;
    await act(async () => {
      expect((await client.current!.rpc('count', 1)).data).toEqual({ total: 1 });
    });
    expect(RecordingWebSocket.sockets).toHaveLength(sockets); // the same connection
    const received = RecordingWebSocket.sockets.flatMap((s) => s.received);
    const second = RecordingWebSocket.frames.find((f) => f.method === 'rpc' && f.params?.method === 'count')!;
    const secondReply = received.findIndex((f) => f.id === second.id && 'result' in f);
    expect(secondReply).toBeGreaterThan(-1);
    expect(received.slice(secondReply).filter((f) => f.id === first.id)).toEqual([]);
    expect(received.some((f) => f.id === first.id && 'result' in f)).toBe(false);
    expect(view.getByTestId('rpc').textContent).toBe(shown); // chunks that came after cancel() were ignored
  });

  it("a call from a child's mount effect waits for the provider's connection", async () => {
    const out: { current?: UseRpcResult<unknown, unknown, number> } = {};
    function OnMount() {
      const rpc = useRpc<unknown, unknown, number>('count');
      out.current = rpc;
      const { call } = rpc;
      useEffect(() => void call(2), [call]);
      return h('span', { 'data-testid': 'rpc' }, `${rpc.status}|${rpc.chunks.join(',')}|${JSON.stringify(rpc.result ?? null)}`);
    }
    // Without strict mode: its rehearsal would leave the client connecting before the second mount.
    const view = render(h(TidingsProvider, { url: t.wsUrl, getToken: () => token('ivy'), WebSocket: RecordingWebSocket }, h(OnMount)));
    await waitFor(() => expect(view.getByTestId('rpc').textContent).toBe('done|0,1|{"total":2}'));
    expect(out.current!.error).toBeNull();
    view.unmount();
    // And in strict mode.
    const strict = render(app(t, 'ivy', h(OnMount)));
    await waitFor(() => expect(strict.getByTestId('rpc').textContent).toBe('done|0,1|{"total":2}'));
    expect(out.current!.error).toBeNull();
  });

  it('chunks is a new array when it changes, and the same one across renders that do not change it', async () => {
    const seen: number[][] = [];
    const contents: number[][] = [];
    let rerender: () => void = () => {};
    const out: { current?: UseRpcResult<unknown, unknown, number> } = {};
    function Track() {
      const rpc = useRpc<unknown, unknown, number>('count');
      out.current = rpc;
      const [, set] = useState(0);
      rerender = () => set((n) => n + 1);
      if (seen[seen.length - 1] !== rpc.chunks) {
        seen.push(rpc.chunks);
        contents.push([...rpc.chunks]);
      }
      return null;
    }
    render(app(t, 'jon', h(Track)));
    await act(async () => {
      await out.current!.call(5);
    });
    const last = out.current!.chunks;
    expect(last).toEqual([0, 1, 2, 3, 4]);
    // Every snapshot kept the contents it had when rendered: none was mutated after it was handed out.
    expect(seen).toEqual(contents);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    act(() => rerender());
    expect(out.current!.chunks).toBe(last);
  });

  it('a handler error is the error, with its code', async () => {
    const out: { current?: UseRpcResult<unknown, unknown, number> } = {};
    render(app(t, 'fred', h(Caller, { method: 'deny', out })));
    await act(async () => {
      await out.current!.call();
    });
    expect(out.current!.status).toBe('error');
    expect((out.current!.error as { code?: number }).code).toBe(403);
    expect(out.current!.error?.message).toBe('not for you');
  });

  it('unmounting cancels the call in flight', async () => {
    const out: { current?: UseRpcResult<unknown, unknown, number> } = {};
    const view = render(app(t, 'gus', h(Caller, { method: 'forever', out })));
    act(() => void out.current!.call('unmount-me'));
    await waitFor(() => expect(out.current!.chunks.length).toBeGreaterThanOrEqual(1));
    view.unmount();
    await waitFor(() => expect(aborted.has('unmount-me')).toBe(true));
  });

  it('works from a button', async () => {
    function Button() {
      const { call, chunks, result } = useRpc<number, { total: number }, number>('count');
      return h('button', { onClick: () => call(3) }, result ? `total ${result.total}` : `chunks ${chunks.length}`);
    }
    const view = render(app(t, 'hana', h(Button)));
    fireEvent.click(view.getByRole('button'));
    await waitFor(() => expect(view.getByRole('button').textContent).toBe('total 3'));
  });
});
