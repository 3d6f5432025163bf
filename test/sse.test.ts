/**
 * The SSE transport from the outside: a real EventSource (npm `eventsource`)
 * against /sse, commands by POST, event ids that let the EventSource's own
 * reconnect resume every subscription, heartbeats and `retry:`, clear errors
 * for bad input (fuzzed), and commands POSTed to another node reaching the
 * stream without sticky sessions.
 */
import { EventSource } from 'eventsource';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@tidings/client';
import { type ControlMessage, type EngineHandler, Gateway, MemoryEngine, makeConfig } from '@tidings/server';
import { API_KEY, SECRET, type TestGateway, startTestGateway, until } from './helpers.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({
    sse: { heartbeat: '200ms', retry: '100ms' },
    namespaces: { '': {}, room: { presence: true } },
  });
});
afterAll(() => t.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw EventSource on /sse that keeps every frame with the lastEventId it came with. */
function openStream(base: string, connect: Record<string, unknown>) {
  const es = new EventSource(`${base}/sse?connect=${encodeURIComponent(JSON.stringify(connect))}`);
  const frames: Array<{ frame: any; lastEventId: string }> = [];
  es.onmessage = (ev) => void frames.push({ frame: JSON.parse(ev.data), lastEventId: ev.lastEventId });
  const connectReplies = () => frames.filter((f) => f.frame.id === 1);
  return {
    es,
    frames,
    connectReplies,
    session: () => connectReplies().at(-1)?.frame.result?.session as string,
    reply: (id: number) => frames.filter((f) => f.frame.id === id && !('chunk' in f.frame)).at(-1)?.frame,
    pubs: (channel: string) => frames.filter((f) => f.frame.type === 'pub' && f.frame.channel === channel).map((f) => f.frame),
  };
}

function post(base: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${base}/sse/command`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: await r.json().catch(() => undefined) }));
}

describe('SSE transport with a real EventSource', () => {
  it('connects, takes commands by POST, delivers publications with event ids, and resumes by Last-Event-ID', async () => {
    const s = openStream(t.httpUrl, { token: await t.token('raw'), subs: [{ channel: 'news' }] });
    await until(() => s.connectReplies().length === 1, 5000, 'connect reply');
    const key = s.session();
    expect(key).toMatch(/^[\w-]+\.[\w-]{24}$/);
    expect(s.connectReplies()[0]!.frame.result.subs[0]).toMatchObject({ channel: 'news', recoverable: true });

    expect((await post(t.httpUrl, { session: key, frames: [{ id: 2, method: 'subscribe', params: { channel: 'room:a' } }] })).status).toBe(202);
    await until(() => s.reply(2) !== undefined, 5000, 'subscribe reply');
    await post(t.httpUrl, { session: key, frames: [{ id: 3, method: 'presence', params: { channel: 'room:a' } }] });
    await until(() => s.reply(3) !== undefined, 5000, 'presence reply');
    expect(s.reply(3).result.clients.map((c: { user: string }) => c.user)).toEqual(['raw']);

    for (let i = 0; i < 3; i++) await t.publish('news', { i });
    for (let i = 0; i < 2; i++) await t.publish('room:a', { i });
    await until(() => s.pubs('room:a').length === 2, 5000, 'live publications');
    const last = JSON.parse(s.frames.at(-1)!.lastEventId);
    expect(Object.keys(last).sort()).toEqual(['#raw', 'news', 'room:a']);
    expect(last['news'][0]).toBe(3);
    expect(last['room:a'][0]).toBe(2);

    // The server cuts the stream; the EventSource comes back by itself (retry: 100 ms) with Last-Event-ID.
    for (const session of t.gw.sessions()) if (session.user === 'raw') session.transport.abort();
    for (let i = 3; i < 8; i++) await t.publish('news', { i });
    for (let i = 2; i < 7; i++) await t.publish('room:a', { i });
    await until(() => s.connectReplies().length === 2, 5000, 'resumed stream');
    const resumed = s.connectReplies()[1]!.frame.result;
    expect(resumed.session).not.toBe(key);
    const byChannel = Object.fromEntries(resumed.subs.map((r: any) => [r.channel, r]));
    expect(byChannel['news']).toMatchObject({ wasRecovering: true, recovered: true });
    expect(byChannel['room:a']).toMatchObject({ wasRecovering: true, recovered: true });
    expect(byChannel['news'].publications.length).toBeGreaterThan(0); // the gap was filled by recovery, not live
    const all = (ch: string) => [...s.pubs(ch), ...byChannel[ch].publications].map((p: any) => p.data.i).sort((a: number, b: number) => a - b);
    expect(all('news')).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(all('room:a')).toEqual([0, 1, 2, 3, 4, 5, 6]);
    s.es.close();
  });

  it('tells a bad token plainly: a disconnect event with 3500, then the stream ends', async () => {
    const s = openStream(t.httpUrl, { token: 'not-a-token' });
    await until(() => s.frames.some((f) => f.frame.type === 'disconnect'), 5000, 'disconnect');
    expect(s.frames.find((f) => f.frame.type === 'disconnect')!.frame).toMatchObject({ code: 3500, reconnect: false });
    s.es.close();
  });

  it('sets retry and sends heartbeat comments', async () => {
    const ac = new AbortController();
    const token = await t.token('hb');
    const res = await fetch(`${t.httpUrl}/sse?connect=${encodeURIComponent(JSON.stringify({ token }))}`, { signal: ac.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toContain('no-cache');
    const reader = res.body!.getReader();
    let text = '';
    const deadline = Date.now() + 3000;
    while ((text.match(/^:$/gm) ?? []).length < 2 && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    ac.abort();
    expect(text.startsWith('retry: 100\n\n')).toBe(true);
    expect((text.match(/^:$/gm) ?? []).length).toBeGreaterThanOrEqual(2);
  });

  it('answers bad requests with clear errors and keeps serving', async () => {
    const bad = async (path: string, init: RequestInit = {}) => {
      const r = await fetch(t.httpUrl + path, init);
      return { status: r.status, body: (await r.json().catch(() => undefined)) as any };
    };
    expect(await bad('/sse?connect=%7Bnope')).toMatchObject({ status: 400, body: { error: { code: 107 } } });
    expect(await bad('/sse', { headers: { 'last-event-id': 'garbage' } })).toMatchObject({ status: 400, body: { error: { code: 107 } } });
    expect(await post(t.httpUrl, '{not json')).toMatchObject({ status: 400, body: { error: { code: 107 } } });
    expect(await post(t.httpUrl, { session: 'x', frames: [] })).toMatchObject({ status: 400, body: { error: { code: 107 } } });
    expect(await post(t.httpUrl, 'x'.repeat(70_000))).toMatchObject({ status: 413 });
    const unknownHere = `${t.gw.id}.AAAAAAAAAAAAAAAAAAAAAAAA`;
    expect(await post(t.httpUrl, { session: unknownHere, frames: [{ method: 'pong' }] })).toMatchObject({ status: 404, body: { error: { code: 110 } } });
    // A key of another node is forwarded through the engine; nobody holds it here, and nothing breaks.
    expect((await post(t.httpUrl, { session: 'elsewhere.AAAAAAAAAAAAAAAAAAAAAAAA', frames: [{ method: 'pong' }] })).status).toBe(202);
    expect((await bad('/sse/command', { method: 'OPTIONS', headers: { origin: 'http://app.example' } })).status).toBe(204);
    expect((await bad('/sse/nothing')).status).toBe(404);

    // Malformed frames inside a good batch get error pushes and replies on the stream, like on a WebSocket.
    const s = openStream(t.httpUrl, { token: await t.token('batch') });
    await until(() => s.connectReplies().length === 1, 5000, 'connect');
    const r = await post(t.httpUrl, { session: s.session(), frames: [{ id: 'x' }, 'garbage', { id: 5, method: 'nope' }, { id: 6, method: 'rpc', params: {} }] });
    expect(r.status).toBe(202);
    await until(() => s.reply(6) !== undefined, 5000, 'replies');
    expect(s.frames.filter((f) => f.frame.type === 'error')).toHaveLength(2);
    expect(s.reply(5).error.code).toBe(104);
    expect(s.reply(6).error.code).toBe(107);
    s.es.close();
  });

  it('survives fuzzed POST bodies: documented statuses only, and a bystander stream keeps receiving', async () => {
    const bystander = openStream(t.httpUrl, { token: await t.token('bystander'), subs: [{ channel: 'calm' }] });
    const victim = openStream(t.httpUrl, { token: await t.token('victim') });
    await until(() => bystander.connectReplies().length === 1 && victim.connectReplies().length === 1, 5000, 'both connected');
    const key = victim.session();
    const body = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 4 }).map((frames) => JSON.stringify({ session: key, frames })),
      fc.array(fc.record({ id: fc.integer(), method: fc.constantFrom('rpc', 'subscribe', 'cancel', 'connect'), params: fc.object({ maxDepth: 2 }) }), { maxLength: 3 }).map((frames) => JSON.stringify({ session: key, frames })),
    );
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const r = await post(t.httpUrl, b);
        expect([202, 400, 404, 413]).toContain(r.status);
        if (r.status !== 202) expect(typeof r.body?.error?.code).toBe('number');
      }),
      { numRuns: 150 },
    );
    for (let i = 0; i < 5; i++) await t.publish('calm', { i });
    await until(() => bystander.pubs('calm').length === 5, 5000, 'bystander publications');
    bystander.es.close();
    victim.es.close();
  });
});

describe('SSE and the drain', () => {
  it('tells an open stream to reconnect elsewhere (3001) and ends it, so the drain finishes at once', async () => {
    const g = await startTestGateway();
    const s = openStream(g.httpUrl, { token: await g.token('drained') });
    await until(() => s.connectReplies().length === 1, 5000, 'connect');
    const started = Date.now();
    await g.gw.close(5000);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(s.frames.find((f) => f.frame.type === 'disconnect')?.frame).toMatchObject({ code: 3001, reconnect: true });
    s.es.close();
  });
});

/** Two nodes whose engines share only the control channel: enough to show commands crossing nodes. */
class BusEngine extends MemoryEngine {
  constructor(private readonly bus: Set<EngineHandler>) {
    super();
    this.control.publish = async (msg: ControlMessage) => {
      for (const h of this.bus) h.onControl(structuredClone(msg));
    };
  }
  override async start(handler: EngineHandler): Promise<void> {
    this.bus.add(handler);
    return super.start(handler);
  }
}

describe('SSE on several nodes, no sticky sessions', () => {
  let a: Gateway;
  let b: Gateway;
  beforeAll(async () => {
    const bus = new Set<EngineHandler>();
    const config = () => makeConfig({ host: '127.0.0.1', port: 0, apiKey: API_KEY, token: { hmacSecret: SECRET }, log: { level: 'silent' } });
    a = new Gateway({ config: config(), engine: new BusEngine(bus) });
    b = new Gateway({ config: config(), engine: new BusEngine(bus) });
    for (const gw of [a, b]) {
      await gw.listen();
      gw.rpc('where', async function* (_data, ctx) {
        yield 'chunk';
        return `${ctx.user} served by the stream's node`;
      });
    }
  });
  afterAll(async () => {
    await a?.close(1000);
    await b?.close(1000);
  });

  it('forwards a command POSTed to node B to the stream held by node A; the reply comes down the stream', async () => {
    const urlA = `http://127.0.0.1:${a.port}`;
    const urlB = `http://127.0.0.1:${b.port}`;
    const { signToken } = await import('@tidings/server');
    const s = openStream(urlA, { token: await signToken(SECRET, { sub: 'roamer', ttlSeconds: 60 }) });
    await until(() => s.connectReplies().length === 1, 5000, 'connect on A');
    expect((await post(urlB, { session: s.session(), frames: [{ id: 2, method: 'rpc', params: { method: 'where', stream: true } }] })).status).toBe(202);
    await until(() => s.reply(2) !== undefined, 5000, 'reply via A');
    expect(s.frames.filter((f) => f.frame.id === 2).map((f) => f.frame)).toEqual([
      { id: 2, chunk: 'chunk' },
      { id: 2, result: { data: "roamer served by the stream's node" } },
    ]);
    s.es.close();
  });

  it('runs the SDK over SSE with every command sent to the other node', async () => {
    const portA = String(a.port);
    const client = createClient({
      url: `ws://127.0.0.1:${a.port}/ws`,
      transports: ['sse'],
      getToken: async () => (await import('@tidings/server')).signToken(SECRET, { sub: 'sdk-roamer', ttlSeconds: 60 }),
      // A load balancer without affinity: the stream went to A, every POST goes to B.
      fetch: (url, init) => fetch(url.replace(`:${portA}/`, `:${b.port}/`), init),
    });
    client.connect();
    await client.ready(5000);
    const chunks: unknown[] = [];
    for (let i = 0; i < 3; i++) expect((await client.rpc('where', null, { onChunk: (c) => void chunks.push(c) })).data).toContain('sdk-roamer');
    expect(chunks).toEqual(['chunk', 'chunk', 'chunk']);
    client.disconnect();
    await sleep(10);
  });
});
