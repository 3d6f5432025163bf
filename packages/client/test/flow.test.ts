/**
 * Conflation and delta compression in the client (docs/protocol.md): a
 * conflated subscription takes forward jumps as expected, a delta
 * subscription rebuilds each publication from the previous one, and a delta
 * it cannot apply is handled as a gap (resubscribe, full data again).
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { applyDelta, canonicalJson, makeDelta } from '@tidings/protocol';
import { type Client, type Publication, createClient } from '../src/index.js';
import { FakeSocket, pub, sub, waitFor } from './fake-socket.js';

const clients: Client[] = [];
beforeEach(() => FakeSocket.reset());
afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});

async function connected(): Promise<{ client: Client; ws: FakeSocket }> {
  const client = createClient({ url: 'ws://test/ws', WebSocket: FakeSocket, getToken: () => 'tok', minReconnectDelay: 1, maxReconnectDelay: 2 });
  clients.push(client);
  const before = FakeSocket.instances.length;
  client.connect();
  await waitFor(() => FakeSocket.instances.length === before + 1);
  const ws = FakeSocket.last();
  await ws.accept();
  return { client, ws };
}

function deltaPub(channel: string, offset: number, from: unknown, to: unknown) {
  const { data: _data, ...rest } = pub(channel, offset);
  return { ...rest, delta: makeDelta(canonicalJson(from), canonicalJson(to)) };
}

it('a conflated subscription delivers a later offset in the same epoch, and still resubscribes on an epoch change', async () => {
  const { client, ws } = await connected();
  const got: Array<Publication<unknown>> = [];
  const s = client.subscribe('progress:j', { conflate: 500, onPublication: (p) => got.push(p) });
  const cmd = ws.command('subscribe');
  expect(cmd.params).toEqual({ channel: 'progress:j', conflate: 500 });
  ws.reply(cmd.id, sub('progress:j', { offset: 3, conflate: 500 }));
  ws.push(pub('progress:j', 9));
  ws.push(pub('progress:j', 20));
  ws.push(pub('progress:j', 20)); // a duplicate is still dropped
  expect(got.map((p) => p.offset)).toEqual([9, 20]);
  expect(s.state).toBe('subscribed');
  ws.push(pub('progress:j', 21, 21, 'e2'));
  expect(s.state).toBe('subscribing');
});

it('a delta subscription rebuilds every publication, and a delta it cannot apply is a gap', async () => {
  const { client, ws } = await connected();
  const got: unknown[] = [];
  const s = client.subscribe('meeting:m', { delta: true, onPublication: (p) => got.push(p.data) });
  const cmd = ws.command('subscribe');
  expect(cmd.params).toEqual({ channel: 'meeting:m', delta: true });
  ws.reply(cmd.id, sub('meeting:m', { offset: 0, delta: true }));
  const v1 = { lines: ['a'] };
  const v2 = { lines: ['a', 'b'] };
  const v3 = { lines: ['a', 'b', 'c'], done: true };
  ws.push(pub('meeting:m', 1, v1));
  ws.push(deltaPub('meeting:m', 2, v1, v2));
  ws.push(deltaPub('meeting:m', 3, v2, v3));
  expect(got).toEqual([v1, v2, v3]);

  ws.push(deltaPub('meeting:m', 4, { other: 1 }, { other: 2 })); // built on a base this client does not have
  expect(got).toHaveLength(3);
  expect(s.state).toBe('subscribing');
  const resub = ws.command('subscribe');
  expect(resub.params).toEqual({ channel: 'meeting:m', delta: true, since: { offset: 3, epoch: 'e1' } });
});

it('the wire delta of the docs example applies', () => {
  expect(applyDelta('{"p":41}', [6, -1, '2', 1])).toBe('{"p":42}');
});
