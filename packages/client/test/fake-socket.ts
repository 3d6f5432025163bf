/**
 * A scripted stand-in for a WebSocket, for unit tests only: the test plays the
 * server by opening the socket, reading what the client sent and pushing
 * frames back. End-to-end tests run against the real server instead.
 */
import { vi } from 'vitest';

type Json = Record<string, any>;

export class FakeSocket {
  static instances: FakeSocket[] = [];

  static reset(): void {
    FakeSocket.instances = [];
  }

  static last(): FakeSocket {
    const s = FakeSocket.instances.at(-1);
    if (!s) throw new Error('no socket was created');
    return s;
  }

  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  /** Frames the client sent, parsed. */
  readonly sent: Json[] = [];
  closedWith?: { code?: number; reason?: string };

  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('socket is not open');
    this.sent.push(JSON.parse(data));
  }

  close(code?: number, reason?: string): void {
    if (this.readyState >= 2) return;
    this.readyState = 3;
    this.closedWith = { code, reason };
    queueMicrotask(() => this.onclose?.({ code: code ?? 1005, reason: reason ?? '' }));
  }

  // ---------------------------------------------------------- the server's side

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  push(frame: Json): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  reply(id: number, result: unknown): void {
    this.push({ id, result });
  }

  replyError(id: number, error: { code: number; message: string; temporary?: boolean }): void {
    this.push({ id, error });
  }

  /** The server closes the connection. */
  drop(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  commands(method: string): Json[] {
    return this.sent.filter((f) => f.method === method);
  }

  command(method: string): Json {
    const c = this.commands(method).at(-1);
    if (!c) throw new Error(`client sent no ${method} (sent: ${this.sent.map((f) => f.method).join(', ')})`);
    return c;
  }

  /** Open, wait for the connect command and answer it. */
  async accept(result: Json = {}): Promise<Json> {
    this.open();
    const connect = this.command('connect');
    this.reply(connect.id, { client: 'c1', user: 'u1', protocol: 1, ping: 25, pong: 10, subs: [], serverSubs: [], ...result });
    return connect;
  }
}

/** Let promise callbacks and zero-delay timers run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}

export async function waitFor(cond: () => boolean, ms = 1000): Promise<void> {
  await vi.waitFor(() => {
    if (!cond()) throw new Error('condition not met');
  }, { timeout: ms, interval: 2 });
}

export function sub(channel: string, extra: Json = {}): Json {
  return { channel, epoch: 'e1', offset: 0, recoverable: true, wasRecovering: false, recovered: false, publications: [], ...extra };
}

export function pub(channel: string, offset: number, data: unknown = offset, epoch = 'e1'): Json {
  return { type: 'pub', channel, offset, epoch, data, time: 1 };
}
