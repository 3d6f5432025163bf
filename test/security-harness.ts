/**
 * Harness of the attack tests: a gateway in a child process (its heap
 * measured after full collections, apart from the attacker's), an honest
 * subscriber that must receive every publication made during an attack, and
 * raw WebSocket framing on a net socket for attacks `ws` will not build.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type Socket, connect as tcpConnect } from 'node:net';
import { resolve } from 'node:path';
import { expect } from 'vitest';
import { API_KEY, RawPeer, until } from './helpers.js';

const CHILD = resolve(import.meta.dirname, 'security-gateway.mjs');
/** The honest subscriber's channel: no history, so publications during an attack do not grow the heap by design. */
export const HONEST_CHANNEL = 'honest:feed';
/** A heap within this share of where it started counts as returned. */
export const HEAP_TOLERANCE = 0.1;
/** Publications at least, and at most, made while one attack runs. */
const MIN_PUBLICATIONS = 20;
const MAX_PUBLICATIONS = 5000;

export interface Target {
  port: number;
  wsUrl: string;
  httpUrl: string;
  honest: RawPeer;
  /** The gateway's heap after full collections, in bytes. */
  heap(): Promise<number>;
  stats(): Promise<{ connections: number; channels: number; disconnects: Record<string, number> }>;
  publish(channel: string, data: unknown): Promise<{ status: number; body: any }>;
  /** Make the gateway keep `count` small objects alive (to show that the heap check catches a leak), or let them go. */
  retain(count: number): Promise<void>;
  release(): Promise<void>;
  close(): Promise<void>;
}

/** Start a gateway child with `config`, and an honest subscriber whose token `sign` makes. */
export async function startTarget(
  config: Record<string, unknown>,
  sign: (sub: string) => Promise<string>,
  honestOrigin?: string,
): Promise<Target> {
  const full = {
    host: '127.0.0.1',
    port: 0,
    apiKey: API_KEY,
    log: { level: 'silent' },
    ...config,
    namespaces: { honest: { history: false }, ...(config.namespaces as object | undefined) },
  };
  const child = fork(CHILD, [JSON.stringify(full)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const [hello] = (await once(child, 'message')) as [{ ready: number }];
  const port = hello.ready;
  const ask = rpcTo(child);
  const httpUrl = `http://127.0.0.1:${port}`;
  const wsUrl = `ws://127.0.0.1:${port}/ws`;
  const honest = await new RawPeer(wsUrl, honestOrigin ? { origin: honestOrigin } : undefined).open();
  // An honest client answers the server's pings, or it is cut with 3012 in a long run.
  honest.ws.on('message', (data) => {
    if (data.toString() === '{"type":"ping"}') honest.ws.send('{"method":"pong"}');
  });
  const reply = await honest.call('connect', { token: await sign('honest'), subs: [{ channel: HONEST_CHANNEL }] });
  if (reply.error || reply.result.subs[0].error) throw new Error(`honest subscriber refused: ${JSON.stringify(reply)}`);
  return {
    port,
    wsUrl,
    httpUrl,
    honest,
    heap: async () => (await ask({ op: 'heap' })).heap,
    stats: async () => (await ask({ op: 'stats' })).stats,
    publish: (channel, data) => apiPost(httpUrl, '/api/publish', { channel, data }),
    retain: async (count) => void (await ask({ op: 'retain', count })),
    release: async () => void (await ask({ op: 'release' })),
    async close() {
      honest.close();
      const exited = once(child, 'exit');
      child.send({ op: 'close' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function rpcTo(child: ChildProcess): (msg: object) => Promise<any> {
  let next = 0;
  return (msg) => {
    const id = ++next;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway child did not answer ${JSON.stringify(msg)}`)), 15_000);
      const onMessage = (m: any) => {
        if (m.id !== id) return;
        child.off('message', onMessage);
        clearTimeout(timer);
        resolve(m);
      };
      child.on('message', onMessage);
      child.send({ ...msg, id });
    });
  };
}

export async function apiPost(httpUrl: string, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(httpUrl + path, {
    method: 'POST',
    headers: { authorization: `apikey ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/**
 * Run `attack` while publishing to the honest subscriber's channel without
 * pause; then check the subscriber got every publication, in order, and
 * nothing else, and that the gateway's heap came back to within 10% once the
 * attacker's connections are gone. The attack runs once before the heap is
 * first measured, so what a first run costs once (code compiled on first use,
 * lazily loaded modules) is not counted as growth. Returns the second run's result.
 */
export async function underAttack<T>(t: Target, attack: () => Promise<T>): Promise<T> {
  await honestThrough(t, attack);
  const heapBefore = await t.heap();
  const result = await honestThrough(t, attack);
  const heapAfter = await t.heap();
  if (process.env.SECURITY_HEAP_LOG) console.log(`heap ${heapBefore} -> ${heapAfter} bytes`);
  expect(Math.abs(heapAfter - heapBefore) / heapBefore, `heap ${heapBefore} -> ${heapAfter} bytes`).toBeLessThanOrEqual(HEAP_TOLERANCE);
  return result;
}

/** Run `attack` from and back to a node with only the honest subscriber, which must miss nothing meanwhile. */
async function honestThrough<T>(t: Target, attack: () => Promise<T>): Promise<T> {
  const idle = (s: Stats) => s.connections === 1 && s.channels === HONEST_IDLE_CHANNELS;
  await waitForStats(t, idle, 'only the honest subscriber');
  const startFrame = t.honest.frames.length;
  let done = false;
  let sent = 0;
  const publishing = (async () => {
    while ((!done || sent < MIN_PUBLICATIONS) && sent < MAX_PUBLICATIONS) {
      const r = await t.publish(HONEST_CHANNEL, { i: sent });
      if (r.status !== 200) throw new Error(`publish during the attack failed: ${r.status} ${JSON.stringify(r.body)}`);
      sent++;
    }
  })();
  let result: T;
  try {
    result = await attack();
  } finally {
    done = true;
    await publishing;
  }
  const received = () => t.honest.frames.slice(startFrame).filter((f) => f.type === 'pub');
  await until(() => received().length >= sent, 20_000, `the honest subscriber's ${sent} publications`);
  expect(received().map((f) => f.data.i)).toEqual(Array.from({ length: sent }, (_, i) => i));
  expect(t.honest.frames.slice(startFrame).filter((f) => f.type !== 'pub' && f.type !== 'ping')).toEqual([]);
  await waitForStats(t, idle, 'the attacker gone');
  return result;
}

type Stats = Awaited<ReturnType<Target['stats']>>;
/** The honest subscriber's channel and its personal channel. */
const HONEST_IDLE_CHANNELS = 2;

export async function waitForStats(t: Target, cond: (s: Stats) => boolean, what: string): Promise<void> {
  let last = await t.stats();
  const deadline = Date.now() + 20_000;
  while (!cond(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
    last = await t.stats();
  }
}

/** Run `jobs` at most `width` at a time. */
export async function inBatches<T>(count: number, width: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < count; i += width) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(width, count - i) }, (_, j) => job(i + j)))));
  }
  return out;
}

/** Connect with `token`; resolves with the close code and the disconnect push (or the reply when it was accepted). */
export async function connectWith(wsUrl: string, token: string): Promise<{ code?: number; push?: any; reply?: any }> {
  const peer = await new RawPeer(wsUrl).open();
  peer.ws.send(JSON.stringify({ id: 1, method: 'connect', params: { token } }));
  const outcome = await Promise.race([
    peer.closed.then((c) => ({ code: c.code, push: peer.frames.find((f) => f.type === 'disconnect') })),
    peer.waitFor((f) => f.id === 1 && f.result).then((reply) => ({ reply })),
  ]);
  peer.close();
  return outcome;
}

// ---- raw WebSocket on a net socket ----

/** An open socket after a WebSocket handshake with `headers`, or the HTTP status line it got instead. */
export async function rawHandshake(port: number, extraHeaders = ''): Promise<{ socket: Socket; status: string; rest: Buffer }> {
  const socket = tcpConnect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  const key = randomBytes(16).toString('base64');
  socket.write(
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extraHeaders}\r\n`,
  );
  const head = await readUntilHeadEnds(socket);
  const end = head.indexOf('\r\n\r\n');
  return { socket, status: head.subarray(0, head.indexOf('\r\n')).toString(), rest: end < 0 ? Buffer.alloc(0) : head.subarray(end + 4) };
}

function readUntilHeadEnds(socket: Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const done = () => {
      socket.off('data', onData);
      socket.off('close', done);
      resolve(got);
    };
    const onData = (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.includes('\r\n\r\n')) done();
    };
    socket.on('data', onData);
    socket.on('close', done);
  });
}

export const Opcode = { Continuation: 0, Text: 1, Binary: 2, Close: 8 } as const;

/** One masked client frame (RFC 6455 §5.2). */
export function clientFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const mask = randomBytes(4);
  const len = payload.length;
  const header = len < 126 ? Buffer.from([0, len]) : len < 65536 ? Buffer.from([0, 126, len >> 8, len & 255]) : lengthHeader64(len);
  header[0] = (fin ? 0x80 : 0) | opcode;
  header[1]! |= 0x80;
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

function lengthHeader64(len: number): Buffer {
  const h = Buffer.alloc(10);
  h[1] = 127;
  h.writeBigUInt64BE(BigInt(len), 2);
  return h;
}

/** Collects what the server sends on a raw socket after the handshake: text frames and the close code. */
export class RawFrames {
  private buf: Buffer;
  readonly texts: string[] = [];
  closeCode?: number;
  readonly closed: Promise<void>;

  constructor(socket: Socket, rest: Buffer) {
    this.buf = rest;
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.parse();
    });
    this.closed = new Promise((r) => socket.once('close', () => r()));
    this.parse();
  }

  private parse(): void {
    for (;;) {
      if (this.buf.length < 2) return;
      const opcode = this.buf[0]! & 0x0f;
      let len = this.buf[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        at = 10;
      }
      if (this.buf.length < at + len) return;
      const payload = this.buf.subarray(at, at + len);
      if (opcode === Opcode.Text) this.texts.push(payload.toString());
      if (opcode === Opcode.Close && payload.length >= 2) this.closeCode = payload.readUInt16BE(0);
      this.buf = this.buf.subarray(at + len);
    }
  }

  json(): any[] {
    return this.texts.map((t) => JSON.parse(t));
  }
}
