/**
 * SseConnection against a scripted EventSource and fetch: the connect command
 * goes in the stream URL, commands wait for the session key, share a POST
 * when sent in the same turn, go one POST at a time in order, and any failure
 * closes the connection once.
 */
import { describe, expect, it } from 'vitest';
import type { ClientFrame, ServerFrame } from '@tidings/protocol';
import type { ConnectionEvents } from '../src/connection.js';
import { type EventSourceLike, type FetchLike, SseConnection } from '../src/sse.js';

class FakeEventSource implements EventSourceLike {
  static last: FakeEventSource;
  onmessage: ((ev: { data: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeEventSource.last = this;
  }
  close(): void {
    this.closed = true;
  }
  push(frame: unknown): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

function harness() {
  const posts: Array<{ body: any; answer: (status: number) => void }> = [];
  const fetch: FetchLike = (_url, init) =>
    new Promise((resolve, reject) => {
      posts.push({ body: JSON.parse(init.body), answer: (status) => (status < 0 ? reject(new Error('network')) : resolve({ status, text: async () => '{}' })) });
    });
  const seen: { opened: number; frames: ServerFrame[]; closes: Array<[number, string]> } = { opened: 0, frames: [], closes: [] };
  const events: ConnectionEvents = {
    open: () => void seen.opened++,
    frame: (f) => void seen.frames.push(f),
    error: () => {},
    close: (code, reason) => void seen.closes.push([code, reason]),
  };
  const conn = new SseConnection({ url: 'http://gw/sse', EventSource: FakeEventSource, fetch, withCredentials: false }, events);
  return { conn, posts, seen };
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const cmd = (id: number, method = 'presence'): ClientFrame => ({ id, method, params: { channel: 'c' } }) as ClientFrame;

describe('SseConnection', () => {
  it('opens the stream with the connect command and holds commands until the session key arrives', async () => {
    const { conn, posts, seen } = harness();
    await tick();
    expect(seen.opened).toBe(1);
    conn.send({ id: 1, method: 'connect', params: { token: 't' } });
    expect(decodeURIComponent(FakeEventSource.last.url)).toBe('http://gw/sse?connect={"token":"t"}');
    conn.send(cmd(2));
    await tick();
    expect(posts).toHaveLength(0);
    FakeEventSource.last.push({ id: 1, result: { client: 'c', session: 'node.key' } });
    await tick();
    expect(posts.map((p) => p.body)).toEqual([{ session: 'node.key', frames: [cmd(2)] }]);
    expect(seen.frames).toHaveLength(1);
  });

  it('batches commands of one turn, sends one POST at a time, and keeps the order', async () => {
    const { conn, posts } = harness();
    conn.send({ id: 1, method: 'connect', params: {} });
    FakeEventSource.last.push({ id: 1, result: { session: 'node.key' } });
    conn.send(cmd(2));
    conn.send(cmd(3));
    conn.send({ method: 'pong' });
    await tick();
    expect(posts).toHaveLength(1);
    expect(posts[0]!.body.frames.map((f: any) => f.id)).toEqual([2, 3]);
    conn.send(cmd(4));
    conn.send(cmd(5));
    await tick();
    expect(posts).toHaveLength(1); // waits for the first answer
    posts[0]!.answer(202);
    await tick();
    await tick(); // the next POST waits a turn for fetch to pool the connection
    expect(posts).toHaveLength(2);
    expect(posts[1]!.body.frames.map((f: any) => f.id)).toEqual([4, 5]);
  });

  it('closes once, with 1006, when a POST is refused or the stream fails, and reports nothing after', async () => {
    const { conn, posts, seen } = harness();
    conn.send({ id: 1, method: 'connect', params: {} });
    const es = FakeEventSource.last;
    es.push({ id: 1, result: { session: 'node.key' } });
    conn.send(cmd(2));
    await tick();
    posts[0]!.answer(404);
    await tick();
    expect(seen.closes).toEqual([[1006, 'command POST answered 404']]);
    expect(es.closed).toBe(true);
    es.onerror?.({});
    es.push({ type: 'ping' });
    expect(seen.closes).toHaveLength(1);
    expect(seen.frames).toHaveLength(1);
  });
});
