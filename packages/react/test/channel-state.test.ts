// @vitest-environment jsdom
/**
 * useChannelState against a real gateway: load() runs once the subscription
 * is live; publications during load() are neither lost nor applied twice;
 * a reconnect the gateway can recover from does not reload; one it cannot
 * (a gap larger than the channel's history) calls load() again and ends
 * with exactly the backend's state.
 */
import { cleanup, render, waitFor } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Publication, StreamPosition } from '@tidings/client';
import { type Loaded, type UseChannelStateResult, useChannelState, useConnectionState } from '@tidings/react';
import { type TestGateway, startProxy, startTestGateway } from '../../../test/helpers.js';
import { RecordingWebSocket, app, h, serverSubscribers } from './react-helpers.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ namespaces: { feed: { publish: 'none', history: { size: 3, ttl: '10m' } } } });
});
afterAll(() => t.close());
afterEach(() => {
  cleanup();
  RecordingWebSocket.reset();
});

/** The app's backend: stores, then publishes (the order the load() rule relies on). */
function backend(channel: string) {
  const stored: number[] = [];
  let position: StreamPosition | undefined;
  return {
    stored,
    async add(n: number) {
      stored.push(n);
      position = await t.publish(channel, { n });
    },
    snapshot: (): Loaded<number[]> => ({ state: [...stored], ...(position ? { position: { ...position } } : {}) }),
  };
}

/** load() calls the test answers by hand. */
function manualLoad() {
  const calls: Array<(l: Loaded<number[]>) => void> = [];
  return { calls, load: () => new Promise<Loaded<number[]>>((resolve) => calls.push(resolve)) };
}

const append = (state: number[], pub: Publication<{ n: number }>) => [...state, pub.data.n];

function Feed({ channel, load, out }: { channel: string; load: () => Promise<Loaded<number[]>>; out: { current?: UseChannelStateResult<number[]> } }) {
  const r = useChannelState(channel, append, { load, initial: [] });
  out.current = r;
  const c = useConnectionState();
  return h('div', null, h('span', { 'data-testid': 'conn' }, c.state), h('span', { 'data-testid': 'feed' }, `${r.status}:${r.state.join(',')}`));
}

describe('useChannelState', () => {
  it('loads once live, buffers publications during load() and drops those its position covers', async () => {
    const b = backend('feed:1');
    await b.add(1);
    const m = manualLoad();
    const out: { current?: UseChannelStateResult<number[]> } = {};
    const view = render(app(t, 'ann', h(Feed, { channel: 'feed:1', load: m.load, out })));
    await waitFor(() => expect(m.calls).toHaveLength(1));
    // load() only after the subscribe took effect, so nothing published from here on can be missed.
    expect(await serverSubscribers(t, 'feed:1')).toBe(1);
    expect(view.getByTestId('feed').textContent).toBe('loading:');

    // The backend's snapshot is taken here (holds 1 and 2); 3 is published before load() returns.
    await b.add(2);
    const snapshot = b.snapshot();
    await b.add(3);
    // Publication 3 is on the client (the frame was delivered to it) while load() is still running:
    // it is in the buffer, not the state.
    await waitFor(() => expect(RecordingWebSocket.pubs('feed:1').map((f) => f.data)).toContainEqual({ n: 3 }));
    expect(view.getByTestId('feed').textContent).toBe('loading:');
    m.calls[0]!(snapshot);
    await waitFor(() => expect(view.getByTestId('feed').textContent).toBe('ready:1,2,3'));

    await b.add(4);
    await waitFor(() => expect(view.getByTestId('feed').textContent).toBe('ready:1,2,3,4'));
    expect(m.calls).toHaveLength(1);
    expect(out.current?.loads).toBe(1);
  });

  it('without a position every buffered publication is applied (the reducer must ignore what it has)', async () => {
    const b = backend('feed:2');
    const m = manualLoad();
    const out: { current?: UseChannelStateResult<number[]> } = {};
    const view = render(app(t, 'ann', h(Feed, { channel: 'feed:2', load: m.load, out })));
    await waitFor(() => expect(m.calls).toHaveLength(1));
    await b.add(1);
    // The publication reached the client during load(), so it can only come from the buffer.
    await waitFor(() => expect(RecordingWebSocket.pubs('feed:2').map((f) => f.data)).toEqual([{ n: 1 }]));
    expect(view.getByTestId('feed').textContent).toBe('loading:');
    m.calls[0]!({ state: [] });
    await waitFor(() => expect(view.getByTestId('feed').textContent).toBe('ready:1'));
  });

  it('a recoverable reconnect does not reload; a gap larger than the history calls load() again', async () => {
    const proxy = await startProxy(t.port);
    try {
      const b = backend('feed:3');
      await b.add(1);
      let loads = 0;
      const load = async () => {
        loads++;
        return b.snapshot();
      };
      const out: { current?: UseChannelStateResult<number[]> } = {};
      const view = render(app(t, 'ben', h(Feed, { channel: 'feed:3', load, out }), proxy.wsUrl));
      await waitFor(() => expect(view.getByTestId('feed').textContent).toBe('ready:1'));
      expect(loads).toBe(1);

      // Offline for two publications: within the history (size 3), so recovered from it.
      proxy.block();
      proxy.drop();
      await waitFor(() => expect(view.getByTestId('conn').textContent).toBe('reconnecting'));
      await b.add(2);
      await b.add(3);
      proxy.unblock();
      await waitFor(() => expect(view.getByTestId('feed').textContent).toBe('ready:1,2,3'), { timeout: 5000 });
      expect(loads).toBe(1);

      // Offline for five: history has lost two of them, recovery fails, load() runs again.
      proxy.block();
      proxy.drop();
      await waitFor(() => expect(view.getByTestId('conn').textContent).toBe('reconnecting'));
      for (let n = 4; n <= 8; n++) await b.add(n);
      proxy.unblock();
      await waitFor(() => expect(loads).toBe(2), { timeout: 5000 });
      await waitFor(() => expect(view.getByTestId('feed').textContent).toBe('ready:1,2,3,4,5,6,7,8'));

      await b.add(9);
      await waitFor(() => expect(view.getByTestId('feed').textContent).toBe('ready:1,2,3,4,5,6,7,8,9'));
      expect(loads).toBe(2);
      expect(out.current?.state).toEqual(b.stored);
    } finally {
      await proxy.close();
    }
  });

  it('a gateway restart on the memory engine (new epoch) calls load() again', async () => {
    const own = await startTestGateway({ namespaces: { feed: { publish: 'none', history: { size: 100, ttl: '10m' } } } });
    const port = own.port;
    let gw = own;
    const stored: number[] = [];
    const add = async (n: number) => {
      stored.push(n);
      await gw.publish('feed:4', { n });
    };
    let loads = 0;
    const load = async () => {
      loads++;
      return { state: [...stored] };
    };
    const out: { current?: UseChannelStateResult<number[]> } = {};
    const view = render(app(own, 'cat', h(Feed, { channel: 'feed:4', load, out })));
    try {
      await waitFor(() => expect(view.getByTestId('feed').textContent).toBe('ready:'));
      await add(1);
      await waitFor(() => expect(view.getByTestId('feed').textContent).toBe('ready:1'));
      await own.close();
      await waitFor(() => expect(view.getByTestId('conn').textContent).toBe('reconnecting'));
      stored.push(2); // written while the gateway was down: only load() can bring it
      gw = await startTestGateway({ namespaces: { feed: { publish: 'none', history: { size: 100, ttl: '10m' } } } }, port);
      await waitFor(() => expect(loads).toBe(2), { timeout: 10_000 });
      await waitFor(() => expect(view.getByTestId('feed').textContent).toBe('ready:1,2'));
      await add(3);
      await waitFor(() => expect(view.getByTestId('feed').textContent).toBe('ready:1,2,3'));
    } finally {
      view.unmount();
      await gw.close();
    }
  });

  it('a second component on a live channel loads at once and shares the one subscription', async () => {
    const b = backend('feed:6');
    await b.add(1);
    let loads = 0;
    const load = async () => {
      loads++;
      return b.snapshot();
    };
    const first: { current?: UseChannelStateResult<number[]> } = {};
    const second: { current?: UseChannelStateResult<number[]> } = {};
    const tree = (both: boolean) =>
      app(t, 'eli', [h(Feed, { key: 1, channel: 'feed:6', load, out: first }), both ? h(Feed, { key: 2, channel: 'feed:6', load, out: second }) : null]);
    const view = render(tree(false));
    await waitFor(() => expect(first.current?.state).toEqual([1]));
    view.rerender(tree(true));
    await waitFor(() => expect(second.current?.state).toEqual([1]));
    expect(loads).toBe(2); // each component owns its state, so each loads once (strict mode adds none)
    await b.add(2);
    await waitFor(() => expect(second.current?.state).toEqual([1, 2]));
    expect(first.current?.state).toEqual([1, 2]);
    expect(RecordingWebSocket.subscribes('feed:6')).toBe(1);
  });

  it('reports a failing load() as error, keeps folding, and reload() retries', async () => {
    const b = backend('feed:5');
    await b.add(1);
    let fail = true;
    const load = async () => {
      if (fail) throw new Error('backend down');
      return b.snapshot();
    };
    const out: { current?: UseChannelStateResult<number[]> } = {};
    const view = render(app(t, 'dan', h(Feed, { channel: 'feed:5', load, out })));
    await waitFor(() => expect(out.current?.status).toBe('error'));
    expect(out.current?.error?.message).toBe('backend down');
    await b.add(2);
    await waitFor(() => expect(view.getByTestId('feed').textContent).toBe('error:2'));
    fail = false;
    out.current!.reload();
    await waitFor(() => expect(view.getByTestId('feed').textContent).toBe('ready:1,2'));
    expect(out.current?.error).toBeNull();
  });
});
