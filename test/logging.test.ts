/**
 * Logs: one info line per connect and per disconnect, with user, client,
 * transport, code and duration; and not one token, API key, cookie or
 * message body anywhere in the log of a gateway run through a broad
 * scenario at the most verbose level.
 */
import { connect as tcpConnect } from 'node:net';
import { EventSource } from 'eventsource';
import { describe, expect, it } from 'vitest';
import { Gateway, makeConfig, signToken } from '@tidings/server';
import { createLogger } from '../packages/server/dist/node/logger.js';
import { API_KEY, RawPeer, SECRET, until } from './helpers.js';

const COOKIE_SECRET = 'session-cookie-value-5f1d8c2a';
const WRONG_KEY = 'wrong-api-key-7b3e9d1c44';
const marker = (what: string) => `body-of-${what}-9c4e1a`;

interface Line {
  level: number;
  msg: string;
  [k: string]: unknown;
}

async function runScenario(): Promise<{ text: string; secrets: string[] }> {
  const chunks: string[] = [];
  const logger = createLogger({ level: 'trace' }, { write: (s: string) => void chunks.push(s) });
  const config = makeConfig({
    host: '127.0.0.1',
    port: 0,
    apiKey: API_KEY,
    token: { hmacSecret: SECRET },
    sse: { tokenCookie: 'tid' },
    namespaces: { chat: { publish: 'subscribers', signals: true } },
    limits: { bodyIdleTimeout: '200ms' },
  });
  const gw = new Gateway({ config, logger });
  gw.rpc('echo', (data) => data);
  gw.rpc('boom', () => {
    throw new Error('the handler failed');
  });
  const port = await gw.listen();
  const http = `http://127.0.0.1:${port}`;
  const sign = (sub: string, ttl = 3600) => signToken(SECRET, { sub, ttlSeconds: ttl });
  const tokens = { ws: await sign('ann'), query: await sign('bob'), cookie: await sign('cat'), expired: await sign('old', -120), foreign: await signToken('another-secret-0123456789-abcdefghijk', { sub: 'eve', ttlSeconds: 60 }) };
  const secrets = [SECRET, API_KEY, WRONG_KEY, COOKIE_SECRET, ...Object.values(tokens)];
  for (const t of Object.values(tokens)) secrets.push(t.split('.')[2]!); // the signature alone

  const api = (path: string, body: string, key = API_KEY) =>
    fetch(http + path, { method: 'POST', headers: { authorization: `apikey ${key}`, 'content-type': 'application/json', cookie: `session=${COOKIE_SECRET}` }, body });

  // WebSocket: connect, subscribe, publish, RPC (ok and failing), a signal, bad frames.
  const ann = await new RawPeer(`ws://127.0.0.1:${port}/ws`).open();
  expect((await ann.call('connect', { token: tokens.ws, subs: [{ channel: 'chat:room' }] })).result.user).toBe('ann');
  await ann.call('publish', { channel: 'chat:room', data: { text: marker('client-publish') } });
  await ann.call('rpc', { method: 'echo', data: { text: marker('rpc') } });
  expect((await ann.call('rpc', { method: 'boom', data: { text: marker('rpc-failing') } })).error).toBeDefined();
  await ann.call('signal', { channel: 'chat:room', data: { text: marker('signal') } });
  ann.sendRaw(`{"id":99,"method":"publish","params":{"channel":"chat:room","data":"${marker('malformed')}"`);
  await ann.waitFor((f) => f.type === 'error' || f.id === 99);
  secrets.push(...['client-publish', 'rpc', 'rpc-failing', 'signal', 'malformed'].map(marker));

  // SSE: one token in the query, one in a cookie, both with an extra cookie and an Authorization header.
  const cookieHeader = { cookie: `tid=${tokens.cookie}; session=${COOKIE_SECRET}`, authorization: `Bearer ${tokens.query}` };
  const fetchWith: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers);
    for (const [k, v] of Object.entries(cookieHeader)) headers.set(k, v);
    return fetch(input, { ...init, headers });
  };
  const frames: any[] = [];
  const viaQuery = new EventSource(`${http}/sse?connect=${encodeURIComponent(JSON.stringify({ token: tokens.query }))}`, { fetch: fetchWith });
  const viaCookie = new EventSource(`${http}/sse?connect=${encodeURIComponent(JSON.stringify({ subs: [{ channel: 'chat:room' }] }))}`, { fetch: fetchWith });
  for (const es of [viaQuery, viaCookie]) es.onmessage = (ev) => void frames.push(JSON.parse(ev.data));
  await until(() => frames.filter((f) => f.id === 1 && f.result).length === 2, 10_000, 'both SSE streams connected');
  const session = frames.find((f) => f.id === 1 && f.result?.user === 'cat').result.session as string;
  const sse = await fetch(`${http}/sse/command`, { method: 'POST', headers: cookieHeader, body: JSON.stringify({ session, frames: [{ id: 2, method: 'publish', params: { channel: 'chat:room', data: marker('sse-publish') } }] }) });
  expect(sse.status).toBe(202);
  secrets.push(marker('sse-publish'));

  // The API: publishes with the key, a wrong key, a body that is not JSON, data too deep, an unknown channel.
  expect((await api('/api/publish', JSON.stringify({ channel: 'chat:room', data: marker('api-publish') }))).status).toBe(200);
  expect((await api('/api/user/publish', JSON.stringify({ user: 'ann', data: marker('api-user') }))).status).toBe(200);
  expect((await api('/api/batch', JSON.stringify({ publications: [{ channel: 'chat:room', data: marker('api-batch') }, { channel: '', data: marker('api-batch-bad') }] }))).status).toBe(200);
  expect((await api('/api/publish', JSON.stringify({ channel: 'chat:room', data: marker('wrong-key') }), WRONG_KEY)).status).toBe(401);
  expect((await api('/api/publish', `{"channel":"chat:room","data":"${marker('not-json')}`)).status).toBe(400);
  expect((await api('/api/publish', `{"channel":"chat:room","data":${'['.repeat(5000)}"${marker('deep')}"${']'.repeat(5000)}}`)).status).toBe(400);
  expect((await api('/api/signal', JSON.stringify({ channel: 'chat:room', data: marker('api-signal') }))).status).toBe(200);
  secrets.push(...['api-publish', 'api-user', 'api-batch', 'api-batch-bad', 'wrong-key', 'not-json', 'deep', 'api-signal'].map(marker));

  // A body that stalls, and one aborted halfway, both with the key and a marker.
  for (const abort of [false, true]) {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.resume();
    await new Promise((r) => socket.once('connect', r));
    socket.write(`POST /api/publish HTTP/1.1\r\nHost: x\r\nAuthorization: apikey ${API_KEY}\r\nCookie: session=${COOKIE_SECRET}\r\nContent-Length: 500\r\n\r\n{"channel":"chat:room","data":"${marker(`stalled-${abort}`)}`);
    secrets.push(marker(`stalled-${abort}`));
    if (abort) socket.destroy();
    else await new Promise((r) => socket.once('close', r));
  }

  // Refused tokens: expired, signed with another key, and garbage.
  for (const token of [tokens.expired, tokens.foreign, `${tokens.ws}x`]) {
    const peer = await new RawPeer(`ws://127.0.0.1:${port}/ws`).open();
    peer.sendRaw(JSON.stringify({ id: 1, method: 'connect', params: { token } }));
    await peer.closed;
  }
  secrets.push(`${tokens.ws}x`);

  // Token refresh, then the ends: a client close, an SSE client going away, a server disconnect.
  await ann.call('refresh', { token: await sign('ann') });
  viaQuery.close();
  await until(() => gw.connections === 2, 10_000, 'the query stream closed');
  await api('/api/user/disconnect', JSON.stringify({ user: 'cat' }));
  await until(() => gw.connections === 1, 10_000, 'cat disconnected');
  viaCookie.close();
  ann.close();
  await until(() => gw.connections === 0, 10_000, 'everyone gone');
  await gw.close(2000);
  return { text: chunks.join(''), secrets };
}

describe('the log', () => {
  it('has one connect and one disconnect line per session, and no secret or message body', async () => {
    const { text, secrets } = await runScenario();
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Line);
    expect(lines.length).toBeGreaterThanOrEqual(6);
    for (const secret of secrets) expect(text.includes(secret), `the log contains ${secret.slice(0, 24)}…`).toBe(false);

    const connects = lines.filter((l) => l.msg === 'connect');
    const disconnects = lines.filter((l) => l.msg === 'disconnect');
    expect(connects.map((l) => `${l.user} ${l.transport}`).sort()).toEqual(['ann websocket', 'bob sse', 'cat sse']);
    for (const l of [...connects, ...disconnects]) {
      expect(l.level).toBe(30);
      expect(typeof l.client).toBe('string');
    }
    const ends = Object.fromEntries(disconnects.map((l) => [l.user as string, l]));
    expect(Object.keys(ends).sort()).toEqual(['ann', 'bob', 'cat']);
    expect(ends.ann).toMatchObject({ transport: 'websocket', code: 1005, by: 'client' });
    expect(ends.bob).toMatchObject({ transport: 'sse', code: null, by: 'client' });
    expect(ends.cat).toMatchObject({ transport: 'sse', code: 3503, by: 'server' });
    for (const l of disconnects) expect(l.duration).toBeGreaterThanOrEqual(0);
    // Expected client misbehaviour is never an error with a stack.
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('censors secret-named fields that an error or a caller passes to it', () => {
    const chunks: string[] = [];
    const log = createLogger({ level: 'info' }, { write: (s: string) => void chunks.push(s) });
    const err = Object.assign(new Error('upstream refused'), { token: 'tok-1f2e', headers: { authorization: 'apikey k-9a8b' } });
    log.warn({ err, req: { cookie: 'c-7d6e', url: '/api' }, data: 'payload-5c4b' }, 'failed');
    const line = JSON.parse(chunks.join(''));
    expect(chunks.join('')).not.toMatch(/tok-1f2e|k-9a8b|c-7d6e|payload-5c4b/);
    expect(line).toMatchObject({ msg: 'failed', err: { message: 'upstream refused', token: '[redacted]' }, req: { cookie: '[redacted]', url: '/api' }, data: '[redacted]' });
  });
});
