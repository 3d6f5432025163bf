/**
 * The webhook signature as the Python SDK checks it: a captured request passes
 * tidings.verify_webhook (and fails outside the replay window or altered), and
 * examples/python/webhook_receiver.py receives a gateway's events end to end.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { type RawPeer, type TestGateway, connectedPeer, startTestGateway, until } from './helpers.js';
import { type Receiver, startReceiver } from './webhook-receiver.js';

const run = promisify(execFile);
const PY_ROOT = resolve(import.meta.dirname, '../packages/python');
const EXAMPLE = resolve(import.meta.dirname, '../examples/python/webhook_receiver.py');
const HOOK_SECRET = 'webhook-secret-0123456789';
const OLD_SECRET = 'webhook-secret-before-rotation';
const hasPython = spawnSync('python3', ['--version']).status === 0;
// python3 must exist in CI: a missing one fails these tests there instead of skipping them.
const runHere = hasPython || process.env.CI === 'true';
const fast = { batchMaxWait: '20ms', retryMinDelay: '20ms', retryMaxDelay: '100ms', timeout: '2s', lease: '3s' };

let t: TestGateway | undefined;
let rx: Receiver | undefined;
let child: ChildProcess | undefined;
const peers: RawPeer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  await t?.close();
  await rx?.close();
  child?.kill('SIGKILL');
  t = rx = child = undefined;
});

/** Run verify_webhook on a request; prints the number of events, or the error's class and message. */
const VERIFY = `
import json, sys
from tidings import verify_webhook, WebhookVerificationError
req = json.load(sys.stdin)
try:
    body = verify_webhook(req["secret"], req["body"].encode("utf-8"), req["headers"], now=req.get("now"))
    print(json.dumps({"ok": True, "events": [e["name"] for e in body["events"]]}))
except WebhookVerificationError as exc:
    print(json.dumps({"ok": False, "error": str(exc)}))
`;

async function verify(req: { secret: string; body: string; headers: Record<string, unknown>; now?: number }) {
  const child = execFile('python3', ['-c', VERIFY], { env: { PATH: process.env.PATH ?? '', PYTHONPATH: PY_ROOT } });
  const out = new Promise<string>((resolveOut, reject) => {
    let text = '';
    child.stdout!.on('data', (d) => (text += d));
    child.once('error', reject);
    child.once('exit', () => resolveOut(text));
  });
  child.stdin!.end(JSON.stringify(req));
  return JSON.parse(await out) as { ok: boolean; events?: string[]; error?: string };
}

describe.skipIf(!runHere)('webhooks checked by the Python SDK', () => {
  it('a request the gateway sent passes tidings.verify_webhook; altered or replayed late it fails', async () => {
    rx = await startReceiver(HOOK_SECRET);
    // Mid-rotation: the new secret first, the old one still signing too.
    t = await startTestGateway({ webhooks: { endpoints: [{ url: rx.url, secret: [HOOK_SECRET, OLD_SECRET] }], ...fast } });
    peers.push(await connectedPeer(t, 'pyuser'));
    await until(() => rx!.requests.length > 0, 10_000, 'a webhook request');
    const req = rx.requests[0]!;
    const headers = { 'Tidings-Signature': req.headers['tidings-signature'], 'Tidings-Webhook-Id': req.headers['tidings-webhook-id'] };
    const good = await verify({ secret: HOOK_SECRET, body: req.body, headers });
    expect(good).toEqual({ ok: true, events: expect.arrayContaining(['user_connected']) });
    const t0 = Number(/t=(\d+)/.exec(String(headers['Tidings-Signature']))![1]);
    expect((await verify({ secret: HOOK_SECRET, body: req.body, headers, now: t0 + 301 })).ok).toBe(false);
    expect((await verify({ secret: HOOK_SECRET, body: req.body.replace('pyuser', 'pyuses'), headers })).ok).toBe(false);
    expect((await verify({ secret: 'another-secret-0123456789', body: req.body, headers })).ok).toBe(false);
    // A receiver not yet moved to the new secret still accepts it.
    expect((await verify({ secret: OLD_SECRET, body: req.body, headers })).ok).toBe(true);
    expect(String(headers['Tidings-Signature']).match(/v1=/g)).toHaveLength(2);
  });

  it('examples/python/webhook_receiver.py gets the events, once each, and refuses a forged request', async () => {
    child = spawn('python3', [EXAMPLE, '0'], {
      env: { PATH: process.env.PATH ?? '', PYTHONPATH: PY_ROOT, TIDINGS_WEBHOOK_SECRET: HOOK_SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    await until(() => /listening on (\S+)/.test(stderr), 10_000, 'the example listening');
    const url = /listening on (\S+)/.exec(stderr)![1]!;
    t = await startTestGateway({ namespaces: { chat: { presence: true, publish: 'subscribers' } }, webhooks: { url, secret: HOOK_SECRET, ...fast } });
    const p = await connectedPeer(t, 'grace');
    peers.push(p);
    await p.call('subscribe', { channel: 'chat:1' });
    await p.call('publish', { channel: 'chat:1', data: { text: 'hello from the browser' } });
    const lines = () => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; name: string; data?: unknown });
    await until(() => lines().some((e) => e.name === 'client_publication'), 10_000, 'the publication printed');
    const names = lines().map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['user_connected', 'channel_occupied', 'member_added', 'client_publication']));
    expect(lines().find((e) => e.name === 'client_publication')!.data).toEqual({ text: 'hello from the browser' });
    expect(new Set(lines().map((e) => e.id)).size).toBe(lines().length);

    const forged = await fetch(url, { method: 'POST', body: '{"events":[]}', headers: { 'Tidings-Signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` } });
    expect(forged.status).toBe(401);
    expect(await forged.text()).toMatch(/no signature matches/);
  });
});
