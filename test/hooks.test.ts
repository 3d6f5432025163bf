/**
 * Proxy hooks against a real gateway and a real node:http backend on
 * 127.0.0.1: the backend decides connects (cookie sessions, over WebSocket
 * and SSE), subscribes, publications (rewritten for every subscriber and in
 * history) and session refreshes; failures fail closed with the documented
 * codes while other clients carry on; every request is signed.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode, ErrorCode } from '@tidings/protocol';
import { HOOK_SECRET, type HookCall, type HookReply, startHookBackend } from './hook-backend.js';
import { RawPeer, type TestGateway, connectedPeer, freePort, startTestGateway, until } from './helpers.js';

/** Who owns which job, as the app's database would say. */
const JOB_OWNERS: Record<string, string> = { a1: 'alice', b1: 'bob' };
/** Cookie sessions the app knows: session id → user and session length. */
const SESSIONS: Record<string, { user: string; ttl?: number }> = {
  's-alice': { user: 'alice' },
  's-short': { user: 'shorty', ttl: 1 },
  's-ended': { user: 'ender', ttl: 1 },
  's-flaky': { user: 'flake', ttl: 1 },
};

let chatIds = 0;
function answer(call: HookCall): HookReply {
  const b = call.body;
  switch (call.path) {
    case '/connect': {
      if (b.cookies.sid === 's-boom') return { status: 500, text: 'database down' };
      if (b.cookies.sid === 's-banned') return { error: { message: `Konto gesperrt – ${'ü'.repeat(150)}` } };
      const session = SESSIONS[b.cookies.sid];
      if (!session) return { error: { message: 'no session, sign in' } };
      const own = Object.keys(JOB_OWNERS).filter((j) => JOB_OWNERS[j] === session.user);
      return { result: { user: session.user, channels: own.map((j) => `jobs:${j}`), info: { name: session.user.toUpperCase() }, ...(session.ttl ? { ttl: session.ttl } : {}) } };
    }
    case '/subscribe': {
      const job = String(b.channel).slice('jobs:'.length);
      if (JOB_OWNERS[job] !== b.user) return { error: { code: ErrorCode.PermissionDenied, message: 'not your job' } };
      return { result: { info: { role: 'owner' } } };
    }
    case '/publish':
      if (String(b.data.text).includes('spam')) return { error: { code: ErrorCode.PermissionDenied, message: 'looks like spam' } };
      return { result: { data: { id: ++chatIds, text: String(b.data.text).trim(), by: b.user } } };
    case '/refresh':
      if (b.user === 'ender') return { error: { message: 'signed out' } };
      if (b.user === 'flake') return { status: 503, text: 'busy' };
      return { result: { ttl: 3600 } };
    case '/slow':
      return 'hang';
    case '/flaky':
      // The first attempt fails, the retry succeeds.
      return callsSeen('/flaky') === 1 ? { status: 500, text: 'oops' } : { result: {} };
    case '/cached':
      return { result: {} };
    case '/garbage':
      return { allow: true };
    default:
      return { status: 404, text: 'no such hook' };
  }
}

let backend: Awaited<ReturnType<typeof startHookBackend>>;
const callsSeen = (path: string) => backend.callsTo(path).length;
let t: TestGateway;

beforeAll(async () => {
  backend = await startHookBackend(answer);
  const hook = (path: string, extra: Record<string, unknown> = {}) => ({ url: `${backend.url}${path}`, ...extra });
  t = await startTestGateway({
    // No leeway: a session the refresh hook does not extend ends right at its expiry.
    token: { hmacSecret: 'test-secret-0123456789-abcdefghijklmnop', leeway: 0 },
    strictNamespaces: true,
    namespaces: {
      jobs: { presence: true },
      chat: { publish: 'subscribers', history: { size: 100, ttl: '10m' } },
      news: {},
      slow: {},
      open: {},
      flaky: {},
      cached: {},
      garbage: {},
    },
    hooks: {
      secret: HOOK_SECRET,
      headers: { 'x-gateway-key': 'static-value' },
      forwardCookies: ['sid'],
      forwardHeaders: ['X-App-Version'],
      connect: hook('/connect', { retries: 0 }),
      refresh: hook('/refresh', { retries: 0 }),
      namespaces: {
        jobs: { subscribe: hook('/subscribe') },
        chat: { publish: hook('/publish') },
        slow: { subscribe: hook('/slow', { timeout: '3s', retries: 0 }) },
        open: { subscribe: { url: `http://127.0.0.1:${await freePort()}/nobody`, retries: 0, failMode: 'open' } },
        flaky: { subscribe: hook('/flaky', { retries: 2, retryBackoff: '10ms' }) },
        cached: { subscribe: hook('/cached', { cacheTtl: '1m' }) },
        garbage: { subscribe: hook('/garbage', { retries: 0 }) },
      },
    },
  });
});
afterAll(async () => {
  await t.close();
  await backend.close();
});

/** A WebSocket that brings a cookie instead of a token. */
async function cookieSocket(sid: string): Promise<RawPeer> {
  return new RawPeer(t.wsUrl, { headers: { cookie: `theme=dark; sid=${sid}`, 'x-app-version': '2.1' } }).open();
}

async function cookiePeer(sid: string, data?: unknown): Promise<{ peer: RawPeer; reply: any }> {
  const peer = await cookieSocket(sid);
  const reply = await peer.call('connect', data === undefined ? {} : { data });
  return { peer, reply };
}

describe('subscribe hook', () => {
  it("refuses user B on A's job channel and admits A, with the hook's info in presence", async () => {
    const alice = await connectedPeer(t, 'alice');
    const bob = await connectedPeer(t, 'bob');
    const refused = await bob.call('subscribe', { channel: 'jobs:a1' });
    expect(refused.error).toMatchObject({ code: ErrorCode.PermissionDenied, message: 'not your job' });
    const admitted = await alice.call('subscribe', { channel: 'jobs:a1' });
    expect(admitted.error).toBeUndefined();
    const presence = await t.api('/api/presence', { channel: 'jobs:a1' });
    expect(presence.body.clients).toEqual([expect.objectContaining({ user: 'alice', info: { role: 'owner' } })]);
    await t.publish('jobs:a1', { stage: 'done' });
    await alice.waitFor((f) => f.type === 'pub' && f.channel === 'jobs:a1');
    expect(bob.frames.some((f) => f.type === 'pub')).toBe(false);
    const asked = backend.callsTo('/subscribe').map((c) => ({ user: c.body.user, channel: c.body.channel }));
    expect(asked).toEqual([{ user: 'bob', channel: 'jobs:a1' }, { user: 'alice', channel: 'jobs:a1' }]);
    alice.close();
    bob.close();
  });

  it('a hook that times out fails closed with 116 while other clients keep receiving', async () => {
    const waiting = await connectedPeer(t, 'waiter');
    const reader = await connectedPeer(t, 'reader');
    expect((await reader.call('subscribe', { channel: 'news' })).error).toBeUndefined();
    const pending = waiting.call('subscribe', { channel: 'slow:1' });
    await until(() => callsSeen('/slow') === 1, 5000, 'the slow hook called');
    // While that hook hangs, the rest of the node (and the waiting connection itself) carries on.
    await t.publish('news', { n: 1 });
    await reader.waitFor((f) => f.type === 'pub' && f.channel === 'news');
    expect((await waiting.call('subscribe', { channel: 'news' })).error).toBeUndefined();
    expect(waiting.frames.some((f) => f.error?.code === ErrorCode.HookFailed)).toBe(false);
    const reply = await pending;
    expect(reply.error).toMatchObject({ code: ErrorCode.HookFailed, temporary: true });
    expect(reply.error.message).toMatch(/timed out/);
    waiting.close();
    reader.close();
  });

  it('an unreachable hook with failMode open lets the subscribe through', async () => {
    const peer = await connectedPeer(t, 'opener');
    expect((await peer.call('subscribe', { channel: 'open:1' })).error).toBeUndefined();
    peer.close();
  });

  it('retries a 5xx with the same request id, and a second answer admits', async () => {
    const peer = await connectedPeer(t, 'retrier');
    expect((await peer.call('subscribe', { channel: 'flaky:1' })).error).toBeUndefined();
    const ids = backend.callsTo('/flaky').map((c) => c.headers['tidings-webhook-id']);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
    peer.close();
  });

  it('a cache hit avoids a second call', async () => {
    const peer = await connectedPeer(t, 'cachey');
    expect((await peer.call('subscribe', { channel: 'cached:1' })).error).toBeUndefined();
    await peer.call('unsubscribe', { channel: 'cached:1' });
    expect((await peer.call('subscribe', { channel: 'cached:1' })).error).toBeUndefined();
    expect(callsSeen('/cached')).toBe(1);
    // Another channel is another question.
    expect((await peer.call('subscribe', { channel: 'cached:2' })).error).toBeUndefined();
    expect(callsSeen('/cached')).toBe(2);
    const metrics = await (await fetch(`${t.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/tidings_hook_cache_hits_total\{hook="subscribe"\} 1/);
    expect(metrics).toMatch(/tidings_hook_calls_total\{hook="subscribe",outcome="refused"\} [1-9]/);
    peer.close();
  });

  it('an answer of the wrong shape fails closed with a message that says so', async () => {
    const peer = await connectedPeer(t, 'garbled');
    const reply = await peer.call('subscribe', { channel: 'garbage:1' });
    expect(reply.error.code).toBe(ErrorCode.HookFailed);
    expect(reply.error.message).toMatch(/invalid/);
    peer.close();
  });
});

describe('publish hook', () => {
  it('rewrites a chat message: every subscriber and the history get the rewritten data', async () => {
    const peers = await Promise.all(['ann', 'ben', 'cat'].map((u) => connectedPeer(t, u)));
    for (const p of peers) expect((await p.call('subscribe', { channel: 'chat:lobby' })).error).toBeUndefined();
    const sent = await peers[0]!.call('publish', { channel: 'chat:lobby', data: { text: '  hello  ' } });
    expect(sent.error).toBeUndefined();
    for (const p of peers) {
      const pub = await p.waitFor((f) => f.type === 'pub' && f.channel === 'chat:lobby');
      expect(pub.data).toEqual({ id: expect.any(Number), text: 'hello', by: 'ann' });
    }
    const refused = await peers[1]!.call('publish', { channel: 'chat:lobby', data: { text: 'buy spam' } });
    expect(refused.error).toMatchObject({ code: ErrorCode.PermissionDenied, message: 'looks like spam' });
    const history = await t.api('/api/history', { channel: 'chat:lobby' });
    expect(history.body.publications.map((p: any) => p.data)).toEqual([{ id: expect.any(Number), text: 'hello', by: 'ann' }]);
    for (const p of peers) p.close();
  });
});

describe('connect hook', () => {
  it('a cookie session over WebSocket: the backend names the user and the channels it joins', async () => {
    const { peer, reply } = await cookiePeer('s-alice', { device: 'web' });
    expect(reply.result.user).toBe('alice');
    expect(reply.result.serverSubs.map((s: any) => s.channel).sort()).toEqual(['#alice', 'jobs:a1']);
    const call = backend.callsTo('/connect').at(-1)!;
    expect(call.body).toEqual({
      client: reply.result.client,
      transport: 'websocket',
      ip: '127.0.0.1',
      headers: { 'x-app-version': '2.1' },
      cookies: { sid: 's-alice' },
      data: { device: 'web' },
    });
    expect(call.headers['x-gateway-key']).toBe('static-value');
    await t.publish('jobs:a1', { stage: 'running' });
    const pub = await peer.waitFor((f) => f.type === 'pub' && f.channel === 'jobs:a1');
    expect(pub.data).toEqual({ stage: 'running' });
    peer.close();
  });

  it('a cookie session over SSE', async () => {
    const withCookie: typeof fetch = (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('cookie', 'sid=s-alice');
      return fetch(input, { ...init, headers });
    };
    const es = new EventSource(`${t.httpUrl}/sse?connect=${encodeURIComponent('{}')}`, { fetch: withCookie });
    const frames: any[] = [];
    es.onmessage = (ev) => void frames.push(JSON.parse(ev.data));
    try {
      await until(() => frames.some((f) => f.id === 1), 5000, 'SSE connect reply');
      expect(frames.find((f) => f.id === 1).result.user).toBe('alice');
      expect(backend.callsTo('/connect').at(-1)!.body).toMatchObject({ transport: 'sse', cookies: { sid: 's-alice' } });
      await t.publish('jobs:a1', { stage: 'sse' });
      await until(() => frames.some((f) => f.type === 'pub' && f.data.stage === 'sse'), 5000, 'publication over SSE');
    } finally {
      es.close();
    }
  });

  it('refuses a connection without a session with 3505, and a failing hook closes with 3015', async () => {
    const none = await cookieSocket('nobody');
    void none.call('connect', {}).catch(() => {});
    expect(await none.closed).toEqual({ code: CloseCode.ConnectRefused, reason: 'no session, sign in' });
    // A long message in several-byte characters is cut to what a close frame holds, whole characters only.
    const banned = await cookieSocket('s-banned');
    void banned.call('connect', {}).catch(() => {});
    const bannedClose = await banned.closed;
    expect(bannedClose.code).toBe(CloseCode.ConnectRefused);
    expect(bannedClose.reason).toMatch(/^Konto gesperrt – ü+$/);
    expect(Buffer.byteLength(bannedClose.reason)).toBeLessThanOrEqual(123);
    const disconnectPush = await banned.waitFor((f) => f.type === 'disconnect');
    expect(disconnectPush.code).toBe(CloseCode.ConnectRefused);
    const boom = await cookieSocket('s-boom');
    void boom.call('connect', {}).catch(() => {});
    const closed = await boom.closed;
    expect(closed.code).toBe(CloseCode.HookUnavailable);
    expect(closed.reason).toMatch(/connect hook failed: hook backend answered HTTP 500/);
  });

  it('a connection with a token never calls the connect hook', async () => {
    const before = callsSeen('/connect');
    const peer = await connectedPeer(t, 'tokened');
    expect(callsSeen('/connect')).toBe(before);
    peer.close();
  });
});

describe('refresh hook', () => {
  it('extends a session; a refusal ends it with 3005, a failure leaves it to expire', async () => {
    const short = await cookiePeer('s-short');
    const ended = await cookiePeer('s-ended');
    const flaky = await cookiePeer('s-flaky');
    expect(short.reply.result.ttl).toBeTypeOf('number');
    const expiry = Date.now() + 1000;
    expect((await ended.peer.closed).code).toBe(CloseCode.ConnectionExpired);
    expect((await flaky.peer.closed).code).toBe(CloseCode.ConnectionExpired);
    expect(backend.callsTo('/refresh').map((c) => c.body.user).sort()).toEqual(['ender', 'flake', 'shorty']);
    // Well past the first expiry, the extended session still receives.
    await until(() => Date.now() > expiry + 300, 5000, 'past the first expiry');
    await t.api('/api/user/publish', { user: 'shorty', data: { still: 'here' } });
    await short.peer.waitFor((f) => f.type === 'pub' && f.data?.still === 'here');
    expect(short.peer.frames.some((f) => f.type === 'refresh')).toBe(false);
    short.peer.close();
  });
});

describe('signatures', () => {
  it('every request the backend got was signed, and the Python SDK verifies one', async (ctx) => {
    expect(backend.badSignatures).toBe(0);
    expect(backend.calls.length).toBeGreaterThan(5);
    const hasPython = spawnSync('python3', ['--version']).status === 0;
    if (!hasPython && process.env.CI !== 'true') return ctx.skip();
    const call = backend.callsTo('/publish')[0]!;
    const script = [
      'import json, sys',
      `sys.path.insert(0, ${JSON.stringify(resolve(import.meta.dirname, '../packages/python'))})`,
      'from tidings import verify_webhook',
      'req = json.load(sys.stdin)',
      'print(json.dumps(verify_webhook(req["secret"], req["body"].encode(), req["headers"])))',
    ].join('\n');
    const input = JSON.stringify({ secret: HOOK_SECRET, body: call.raw, headers: call.headers });
    const run = spawnSync('python3', ['-I', '-c', script], { input });
    expect(run.stderr.toString()).toBe('');
    expect(JSON.parse(run.stdout.toString())).toEqual(call.body);
    // A body changed by one byte is refused.
    const tampered = spawnSync('python3', ['-I', '-c', script], {
      input: JSON.stringify({ secret: HOOK_SECRET, body: call.raw.replace('hello', 'hellp'), headers: call.headers }),
    });
    expect(tampered.status).not.toBe(0);
    expect(tampered.stderr.toString()).toMatch(/WebhookVerificationError/);
  });
});
