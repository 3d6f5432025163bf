/**
 * Test harness: a real gateway on 127.0.0.1 (port 0), tokens signed with its
 * secret, the HTTP API, and a raw WebSocket peer for protocol-level checks.
 */
import { once } from 'node:events';
import WebSocket from 'ws';
import { Gateway, makeConfig, signToken, type TokenRequest } from '@tidings/server';

export const SECRET = 'test-secret-0123456789-abcdefghijklmnop';
export const API_KEY = 'test-api-key-0123456789';

export interface TestGateway {
  gw: Gateway;
  port: number;
  wsUrl: string;
  httpUrl: string;
  token(sub: string, extra?: Omit<TokenRequest, 'sub'>): Promise<string>;
  api(path: string, body?: unknown, method?: string): Promise<{ status: number; body: any }>;
  publish(channel: string, data: unknown): Promise<{ offset: number; epoch: string }>;
  close(): Promise<void>;
}

export async function startTestGateway(config: Record<string, unknown> = {}, port = 0): Promise<TestGateway> {
  const cfg = makeConfig({
    host: '127.0.0.1',
    port,
    apiKey: API_KEY,
    token: { hmacSecret: SECRET },
    log: { level: 'silent' },
    ...config,
  });
  const gw = new Gateway({ config: cfg });
  const bound = await gw.listen();
  const httpUrl = `http://127.0.0.1:${bound}`;
  const api = async (path: string, body?: unknown, method = body === undefined ? 'GET' : 'POST') => {
    const res = await fetch(httpUrl + path, {
      method,
      headers: { authorization: `apikey ${API_KEY}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  return {
    gw,
    port: bound,
    wsUrl: `ws://127.0.0.1:${bound}/ws`,
    httpUrl,
    token: (sub, extra = {}) => signToken(SECRET, { sub, ttlSeconds: 3600, ...extra }),
    api,
    async publish(channel, data) {
      const r = await api('/api/publish', { channel, data });
      if (r.status !== 200) throw new Error(`publish failed: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
    close: () => gw.close(2000),
  };
}

/** A raw protocol peer: sends commands, collects every frame. */
export class RawPeer {
  readonly frames: any[] = [];
  readonly ws: WebSocket;
  private nextId = 1;
  private waiters: Array<() => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  /** `options` reach the `ws` client (e.g. `headers` for a cookie on the upgrade). */
  constructor(url: string, options?: WebSocket.ClientOptions) {
    this.ws = new WebSocket(url, options);
    this.ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()));
      for (const w of this.waiters.splice(0)) w();
    });
    this.ws.on('error', () => {});
    this.closed = new Promise((resolve) => this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  async open(): Promise<this> {
    if (this.ws.readyState !== WebSocket.OPEN) await once(this.ws, 'open');
    return this;
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  /** Send a command; resolves with its reply frame. */
  async call(method: string, params: unknown = {}): Promise<any> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, method, params }));
    return this.waitFor((f) => f.id === id);
  }

  async waitFor(pred: (f: any) => boolean, timeoutMs = 10_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.frames.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`timed out; frames: ${JSON.stringify(this.frames).slice(0, 500)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  close(): void {
    this.ws.close();
  }
}

export async function connectedPeer(t: TestGateway, user: string, params: Record<string, unknown> = {}): Promise<RawPeer> {
  const peer = await new RawPeer(t.wsUrl).open();
  const reply = await peer.call('connect', { token: await t.token(user), ...params });
  if (reply.error) throw new Error(`connect failed: ${JSON.stringify(reply.error)}`);
  return peer;
}

/** A port that was free a moment ago on 127.0.0.1 (for child processes that must bind a fixed port). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Poll `cond` until true, bounded in time; `what` may be a function that describes the state seen at the timeout. */
export async function until(cond: () => boolean, timeoutMs = 10_000, what: string | (() => string) = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A loopback TCP proxy we can cut: `drop()` destroys every open connection
 * (a network drop as the client sees it), `block()` refuses new ones until
 * `unblock()`.
 */
/** A TCP proxy on 127.0.0.1 to `targetPort`, which a test can cut, block or point elsewhere. */
export async function startProxy(targetPort: number) {
  const net = await import('node:net');
  const open = new Set<import('node:net').Socket>();
  let blocked = false;
  let accepted = 0;
  const server = net.createServer((client) => {
    if (blocked) return void client.destroy();
    accepted++;
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        open.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as import('node:net').AddressInfo).port;
  return {
    port,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    get accepted() {
      return accepted;
    },
    drop() {
      for (const s of open) s.destroy();
    },
    block() {
      blocked = true;
    },
    unblock() {
      blocked = false;
    },
    /** New connections go to `next`; open ones are cut, as a failover would. */
    switchTo(next: number) {
      targetPort = next;
      for (const s of open) s.destroy();
    },
    close() {
      for (const s of open) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
