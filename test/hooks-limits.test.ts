/**
 * The hooks' node-wide bound: with every slot taken and the queue full, a
 * further call fails at once (error 116, "overloaded" in the metrics) instead
 * of waiting, and a call never waits for a slot longer than its timeout.
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
    namespaces: { stuck: {} },
    hooks: { secret: HOOK_SECRET, maxConcurrency: 1, maxQueue: 1, subscribe: { url: `${backend.url}/subscribe`, timeout: '3s', retries: 0 } },
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
