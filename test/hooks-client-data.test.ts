/**
 * The client SDK carries the hooks' `data`: `connectData` on every connect
 * attempt (a function is called per attempt), a subscription's `data` on its
 * subscribe and again on the resubscribe after a reconnect, both as the
 * backend's hook request `data`.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient } from '@tidings/client';
import { HOOK_SECRET, type HookCall, type HookReply, startHookBackend } from './hook-backend.js';
import { type TestGateway, startTestGateway, until } from './helpers.js';

function answer(call: HookCall): HookReply {
  if (call.path === '/connect') {
    return call.body.data?.ticket === 'good' ? { result: { user: `u-${call.body.data.attempt}` } } : { error: { message: 'no ticket' } };
  }
  return call.body.data?.reason === 'dashboard' ? { result: {} } : { error: { code: 103, message: 'say why' } };
}

let backend: Awaited<ReturnType<typeof startHookBackend>>;
let t: TestGateway;
beforeAll(async () => {
  backend = await startHookBackend(answer);
  t = await startTestGateway({
    namespaces: { jobs: {} },
    hooks: { secret: HOOK_SECRET, connect: { url: `${backend.url}/connect` }, namespaces: { jobs: { subscribe: { url: `${backend.url}/subscribe` } } } },
  });
});
afterAll(async () => {
  await t?.close();
  await backend?.close();
});

it('connectData and a subscription data reach the hooks, again after a reconnect', async () => {
  let attempt = 0;
  const client = createClient({ url: t.wsUrl, connectData: () => ({ ticket: 'good', attempt: ++attempt }), minReconnectDelay: 20, maxReconnectDelay: 50 });
  const users: string[] = [];
  client.on('connected', (c) => users.push(c.user));
  const sub = client.subscribe('jobs:1', { data: { reason: 'dashboard' } });
  const refused = client.subscribe('jobs:2');
  const refusals: Error[] = [];
  refused.on('error', (e) => refusals.push(e));
  client.connect();
  try {
    await until(() => sub.state === 'subscribed' && refusals.length > 0, 5000);
    expect((await t.api('/api/user/disconnect', { user: 'u-1', reconnect: true })).status).toBe(200);
    await until(() => users.length === 2 && sub.state === 'subscribed', 5000);
    expect(users).toEqual(['u-1', 'u-2']);
    const subscribes = backend.callsTo('/subscribe').filter((c) => c.body.channel === 'jobs:1');
    expect(subscribes.length).toBeGreaterThanOrEqual(2);
    for (const c of subscribes) expect(c.body.data).toEqual({ reason: 'dashboard' });
    expect(backend.callsTo('/subscribe').find((c) => c.body.channel === 'jobs:2')?.body.data).toBeUndefined();
  } finally {
    client.disconnect();
  }
});
