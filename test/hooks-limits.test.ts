/**
 * The hooks' node-wide bound: with every slot taken and the queue full, a
 * further call fails at once (error 116, "overloaded" in the metrics) instead
 * of waiting, and a call never waits for a slot longer than its timeout.
 * One connection's publications cannot take more than its share.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ErrorCode } from '@tidings/protocol';
import { HOOK_SECRET, startHookBackend } from './hook-backend.js';
import { type TestGateway, connectedPeer, startTestGateway, until } from './helpers.js';

let backend: Awaited<ReturnType<typeof startHookBackend>>;
let t: TestGateway;
beforeAll(async () => {
  backend = await startHookBackend(() => 'hang');
  t = await startTestGateway({
    namespaces: { stuck: {}, talk: { publish: 'authenticated' } },
    hooks: {
      secret: HOOK_SECRET,
      maxConcurrency: 1,
      maxQueue: 1,
      maxPublishesPerConnection: 1,
      subscribe: { url: `${backend.url}/subscribe`, timeout: '3s', retries: 0 },
      namespaces: { talk: { subscribe: false, publish: { url: `${backend.url}/publish`, timeout: '3s', retries: 0 } } },
    },
  });
});
afterAll(async () => {
  await t.close();
  await backend.close();
});

it('a full queue refuses at once, the waiting call times out, and the metrics say which', async () => {
  const peer = await connectedPeer(t, 'crowd');
  const inFlight = peer.call('subscribe', { channel: 'stuck:1' });
  await until(() => backend.calls.length === 1, 5000, 'the first call to reach the backend');
  const queued = peer.call('subscribe', { channel: 'stuck:2' });
  const refused = await peer.call('subscribe', { channel: 'stuck:3' });
  expect(refused.error).toMatchObject({ code: ErrorCode.HookFailed, message: 'subscribe hook failed: too many hook calls waiting' });
  // Answered while both others still wait.
  expect(peer.frames.filter((f) => f.error).length).toBe(1);
  expect((await inFlight).error.message).toMatch(/hook backend timed out/);
  // Its timeout ran from when it was made: it ends at about the same time, waiting or just sent.
  expect((await queued).error.message).toMatch(/timed out/);
  const metrics = await (await fetch(`${t.httpUrl}/metrics`)).text();
  expect(metrics).toMatch(/tidings_hook_calls_total\{hook="subscribe",outcome="overloaded"\} 1/);
  expect(metrics).toMatch(/tidings_hook_calls_total\{hook="subscribe",outcome="timeout"\} 2/);
  peer.close();
});

it("one connection's publications wait for the hook one at a time (hooks.maxPublishesPerConnection), others' are not held", async () => {
  const before = backend.calls.length;
  const chatty = await connectedPeer(t, 'chatty');
  const quiet = await connectedPeer(t, 'quiet');
  const first = chatty.call('publish', { channel: 'talk:1', data: { n: 1 } });
  await until(() => backend.calls.length === before + 1, 5000, 'the first publication at the hook');
  const second = await chatty.call('publish', { channel: 'talk:1', data: { n: 2 } });
  expect(second.error).toMatchObject({ code: ErrorCode.TooManyRequests, temporary: true });
  // Another connection's publication still reaches the hook's queue (and times out there with the hanging backend).
  const other = quiet.call('publish', { channel: 'talk:1', data: { n: 3 } });
  expect((await first).error.code).toBe(ErrorCode.HookFailed);
  expect((await other).error.code).toBe(ErrorCode.HookFailed);
  chatty.close();
  quiet.close();
});
