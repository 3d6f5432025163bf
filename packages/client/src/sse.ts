/**
 * The SSE transport: an EventSource stream for server frames, and POSTs for
 * commands (docs/protocol.md, "SSE transport"). The connect command travels
 * in the stream's URL; its reply carries the session key that the POSTs are
 * bound to. Commands are sent in order: one POST at a time, and whatever was
 * sent meanwhile goes in the next one. Any failure of the stream or a POST
 * closes the connection, and the client reconnects with its own backoff and
 * fresh positions (the EventSource's own retry is not used).
 */
import { type ClientFrame, type ServerFrame, WsCloseCode, decodeServerFrame } from '@tidings/protocol';
import { type Connection, type ConnectionEvents, textFrame } from './connection.js';

export interface EventSourceLike {
  onmessage: ((ev: any) => void) | null;
  onerror: ((ev: any) => void) | null;
  close(): void;
}

export type EventSourceConstructor = new (url: string, init?: { withCredentials?: boolean }) => EventSourceLike;

/** The part of `fetch` the SSE transport uses. */
export type FetchLike = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string; signal: AbortSignal; credentials: 'include' | 'same-origin' },
) => Promise<{ status: number; text(): Promise<string> }>;

export interface SseOptions {
  /** http(s)://host/sse */
  url: string;
  EventSource: EventSourceConstructor;
  fetch: FetchLike;
  /** Send cookies cross-origin (a token cookie, see `sse.tokenCookie`). */
  withCredentials: boolean;
}

/** Frames one POST may carry (the server's limit). */
const MAX_BATCH = 100;
/** The server answers the connect command in the URL under this id. */
const CONNECT_REPLY_ID = 1;

/** `ws(s)://host/path/ws` → `http(s)://host/path/sse`; undefined when the URL does not end in /ws. */
export function deriveSseUrl(wsUrl: string): string | undefined {
  const m = /^(wss?)(:\/\/[^?#]*)\/ws\/?(?:[?#].*)?$/.exec(wsUrl);
  if (!m) return undefined;
  return `${m[1] === 'wss' ? 'https' : 'http'}${m[2]}/sse`;
}

export class SseConnection implements Connection {
  readonly kind = 'sse';
  private es: EventSourceLike | null = null;
  private key: string | null = null;
  private connectId = CONNECT_REPLY_ID;
  private queue: ClientFrame[] = [];
  private posting: AbortController | null = null;
  private postScheduled = false;
  /** A POST just finished: fetch puts its connection back in the pool a turn later, so wait for that. */
  private settling = false;
  private closed = false;

  constructor(
    private readonly o: SseOptions,
    private readonly ev: ConnectionEvents,
  ) {
    // Nothing to open until the connect command comes: it travels in the stream's URL.
    queueMicrotask(() => {
      if (!this.closed) ev.open();
    });
  }

  send(frame: ClientFrame): void {
    if (this.closed || !('id' in frame)) return; // the SSE server needs no pong
    if (frame.method === 'connect') return this.openStream(frame.id, frame.params);
    this.queue.push(textFrame(frame));
    this.schedulePost();
  }

  close(): void {
    this.closed = true;
    this.es?.close();
    this.posting?.abort();
    this.queue = [];
  }

  private openStream(id: number, params: unknown): void {
    this.connectId = id;
    const url = `${this.o.url}?connect=${encodeURIComponent(JSON.stringify(params))}`;
    const es = (this.es = new this.o.EventSource(url, { withCredentials: this.o.withCredentials }));
    es.onmessage = (e: { data: string }) => this.read(e.data);
    es.onerror = () => this.fail('sse stream failed');
  }

  private read(text: string): void {
    if (this.closed) return;
    let frame: ServerFrame;
    try {
      frame = decodeServerFrame(text);
    } catch (err) {
      return this.ev.error(err instanceof Error ? err : new Error(String(err)));
    }
    if (this.key === null && 'id' in frame && frame.id === CONNECT_REPLY_ID) this.onConnectReply(frame);
    this.ev.frame(frame);
  }

  private onConnectReply(reply: { id: number; result?: unknown }): void {
    reply.id = this.connectId;
    const key = (reply.result as { session?: unknown } | undefined)?.session;
    if (typeof key !== 'string') return;
    this.key = key;
    this.schedulePost();
  }

  /** Commands sent in the same turn share a POST. */
  private schedulePost(): void {
    if (this.postScheduled) return;
    this.postScheduled = true;
    queueMicrotask(() => {
      this.postScheduled = false;
      this.post();
    });
  }

  private post(): void {
    if (this.closed || this.posting || this.settling || this.key === null || this.queue.length === 0) return;
    const frames = this.queue.splice(0, MAX_BATCH);
    const ac = (this.posting = new AbortController());
    // text/plain keeps a cross-origin POST "simple": no preflight round trip before each command.
    this.o
      .fetch(`${this.o.url}/command`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain;charset=UTF-8' },
        body: JSON.stringify({ session: this.key, frames }),
        signal: ac.signal,
        credentials: this.o.withCredentials ? 'include' : 'same-origin',
      })
      // Reading the (tiny) body hands the connection back to the pool: the next POST reuses it, no new handshake.
      .then((res) => res.text().then(() => res.status))
      .then(
        (status) => this.posted(ac, status === 202 ? null : `command POST answered ${status}`),
        () => this.posted(ac, 'command POST failed'),
      );
  }

  private posted(ac: AbortController, failure: string | null): void {
    if (this.posting !== ac) return;
    this.posting = null;
    if (failure) return this.fail(failure);
    // Posting before fetch has put the connection back in its pool would open a new one (one more handshake).
    this.settling = true;
    setTimeout(() => {
      this.settling = false;
      this.post();
    }, 0);
  }

  private fail(reason: string): void {
    if (this.closed) return;
    this.close();
    this.ev.close(WsCloseCode.Abnormal, reason);
  }
}
