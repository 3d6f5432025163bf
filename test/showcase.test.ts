/**
 * The showcase in real Chromium: for each page, two browser contexts play the
 * seed scenario and each checks what the other sees; the network log shows no
 * polling; the gateway is killed and restarted under the page, and the page
 * ends complete. One showcase (gateway, backend, Python worker) for the file.
 */
import type { BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, chromiumAvailable } from './browser-helpers.js';
import {
  type Harness,
  type Tab,
  crashAndRestartGateway,
  pythonAvailable,
  repeated,
  requestsSince,
  screenshot,
  signedIn,
  skipShowcase,
  startHarness,
  waitLive,
  waitState,
} from './showcase/harness.js';

const SEGMENTS = 8;
const STAGES = ['upload', 'diarization', 'transcription', 'alignment', 'summary'];

describe.skipIf(skipShowcase)('showcase (headless Chromium, gateway process, Python worker)', () => {
  let h: Harness;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    expect(chromiumAvailable, `${CHROMIUM} is required (apt-get install chromium)`).toBe(true);
    expect(pythonAvailable(), 'python3 (with sqlite3) is required for the worker').toBe(true);
    h = await startHarness();
  }, 60_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await h?.close();
  });

  const tabs: Tab[] = [];
  afterEach(async () => {
    // Close this test's tabs, then check that no page threw.
    const errors = tabs.splice(0).flatMap((t) => t.errors);
    for (const c of contexts.splice(0)) await c.close().catch(() => {});
    expect(errors).toEqual([]);
  });

  async function person(user: string, route: string, shot?: string): Promise<Tab> {
    const tab = await signedIn(h, user, route, undefined, shot);
    contexts.push(tab.page.context());
    tabs.push(tab);
    return tab;
  }

  const count = (tab: Tab, selector: string) => tab.page.locator(selector).count();

  it('live meeting: both viewers see every stage, segment and the summary; a late joiner gets the whole run; a gateway crash loses nothing', async () => {
    const alice = await person('alice', 'meeting', 'sign-in');
    const bob = await person('bob', 'meeting');
    await alice.page.waitForSelector('text=No transcript yet');
    await screenshot(alice, 'meeting-empty');

    const since = Date.now();
    await alice.page.click('[data-testid=meeting-start]');
    for (const t of [alice, bob]) await t.page.waitForSelector('[data-testid=stages][data-run="1"]', { timeout: 10_000 });
    // Kill the gateway in the middle of the run; the backend keeps publishing (with retries).
    await crashAndRestartGateway(h, [alice, bob]);
    for (const t of [alice, bob]) {
      await t.page.waitForSelector('[data-testid=summary]', { timeout: 20_000 });
      await t.page.waitForSelector('[data-stage=summary][data-status=done]');
      expect(await count(t, '.segment')).toBe(SEGMENTS);
      for (const s of STAGES) expect(await t.page.getAttribute(`[data-stage=${s}]`, 'data-status')).toBe('done');
    }
    const texts = await alice.page.locator('.segment p').allTextContents();
    expect(await bob.page.locator('.segment p').allTextContents()).toEqual(texts);
    // No polling: bob made no HTTP request while the run streamed in, except reloading the state once after the crash
    // (the embedded engine lost its history) and fetching a fresh token to reconnect.
    const bobRequests = requestsSince(bob, since);
    expect(repeated(bobRequests)).toEqual([]);
    expect(bobRequests.every((r) => ['GET /api/meetings/weekly-standup', 'GET /api/token'].includes(r))).toBe(true);
    await screenshot(alice, 'meeting', { fullPage: true });

    // A second run while bob's network is down: he goes offline first, the whole run happens without him, and back
    // online he replays it from the gateway's history (no reload from the backend) and ends with alice's transcript.
    await bob.page.context().setOffline(true);
    await bob.page.waitForSelector('[data-testid=connection]:not([data-state=connected])');
    const offlineAt = Date.now();
    await alice.page.click('[data-testid=meeting-start]');
    const run2Done = '[data-testid=stages][data-run="2"] [data-stage=summary][data-status=done]';
    await alice.page.waitForSelector(run2Done, { timeout: 20_000 });
    expect(await alice.page.locator('.segment p').allTextContents()).toEqual(texts);
    // Nothing of run 2 reached bob while he was offline.
    expect(await bob.page.getAttribute('[data-testid=stages]', 'data-run')).toBe('1');
    await bob.page.context().setOffline(false);
    await waitLive(bob);
    await bob.page.waitForSelector(run2Done, { timeout: 20_000 });
    await bob.page.waitForSelector('[data-testid=summary]');
    expect(await count(bob, '.segment')).toBe(SEGMENTS);
    expect(await bob.page.locator('.segment p').allTextContents()).toEqual(texts);
    expect(requestsSince(bob, offlineAt)).toEqual([]);
    const recovered = bob.framesIn.filter((f) => f.includes('"recovered":true')).length;
    expect(recovered).toBeGreaterThan(0);

    // A late joiner gets the whole run from the gateway's history: the backend is not asked.
    const carol = await person('carol', 'meeting');
    await carol.page.waitForSelector('[data-testid=summary]');
    expect(await carol.page.locator('.segment p').allTextContents()).toEqual(texts);
    expect(requestsSince(carol, 0).filter((r) => r.includes('/api/meetings'))).toEqual([]);
  });

  it('an expired session: the token request answers 401, the client stops and the header offers to sign in again', async () => {
    const alice = await person('alice', 'meeting');
    // The app session is no longer accepted (as after its 12 hours): every /api/token now answers 401.
    await alice.page.evaluate(() => {
      const key = 'tidings-showcase:session';
      sessionStorage.setItem(key, JSON.stringify({ ...JSON.parse(sessionStorage.getItem(key)!), session: 'expired.session.token' }));
    });
    const since = Date.now();
    await alice.page.reload();
    await waitState(alice, 'failed');
    expect(await alice.page.textContent('[data-testid=connection]')).toBe('Connection failed');
    expect(await alice.page.isVisible('[data-testid=sign-in-again]')).toBe(true);
    // It stopped: one token request, no retries.
    expect(requestsSince(alice, since).filter((r) => r === 'GET /api/token')).toEqual(['GET /api/token']);
    await screenshot(alice, 'session-expired');
    await alice.page.click('[data-testid=sign-in-again]');
    await alice.page.fill('input[name=user]', 'alice');
    await alice.page.click('button:has-text("Sign in")');
    await waitLive(alice);
  });

  it('chat: a message is stored in SQLite and pushed; presence and typing; a message sent while the other tab is offline arrives once', async () => {
    const alice = await person('alice', 'chat');
    const bob = await person('bob', 'chat');
    for (const t of [alice, bob]) await t.page.waitForSelector('text=No messages yet');
    // Presence: each sees both.
    for (const t of [alice, bob]) await t.page.waitForSelector('[data-testid=online] [data-user=bob]');
    await alice.page.waitForSelector('[data-testid=online] [data-user=alice]');

    const since = Date.now();
    await alice.page.fill('[data-testid=composer]', 'Morning Bob! Is the release still on for Thursday?');
    await bob.page.waitForSelector('[data-testid=typing]:has-text("alice is typing")', { timeout: 5000 });
    await alice.page.press('[data-testid=composer]', 'Enter');
    await bob.page.waitForSelector('.msg-text:has-text("Is the release still on")');
    await bob.page.waitForSelector('[data-testid=typing]:not(:has-text("typing"))', { timeout: 5000 });
    await bob.page.fill('[data-testid=composer]', 'Yes, Thursday. Priya owns the rollout.');
    await bob.page.press('[data-testid=composer]', 'Enter');
    await alice.page.waitForSelector('.msg-text:has-text("Priya owns the rollout")');
    // Alice's only requests: her POST; bob's only his POST (no polling for messages).
    expect(requestsSince(alice, since)).toEqual(['POST /api/conversations/general/messages']);
    expect(requestsSince(bob, since)).toEqual(['POST /api/conversations/general/messages']);

    // Bob's tab goes offline; alice writes; bob comes back and gets it once (recovered from the gateway's history).
    await bob.page.context().setOffline(true);
    await bob.page.waitForSelector('[data-testid=connection]:not([data-state=connected])');
    await alice.page.fill('[data-testid=composer]', 'Written while you were offline');
    await alice.page.press('[data-testid=composer]', 'Enter');
    await alice.page.waitForSelector('.msg:not(.pending) .msg-text:has-text("Written while you were offline")');
    await bob.page.context().setOffline(false);
    await waitLive(bob);
    await bob.page.waitForSelector('.msg-text:has-text("Written while you were offline")');
    expect(await count(bob, '.msg-text:has-text("Written while you were offline")')).toBe(1);

    // A gateway crash: a message posted while it is down is stored, published once it is back, and shown once.
    await h.app.gateway.stop('SIGKILL');
    for (const t of [alice, bob]) await t.page.waitForSelector('[data-testid=connection][data-state=reconnecting]');
    await bob.page.fill('[data-testid=composer]', 'Sent during the outage');
    await bob.page.press('[data-testid=composer]', 'Enter');
    await bob.page.waitForSelector('.msg.pending .msg-text:has-text("Sent during the outage"), .msg:not(.pending) .msg-text:has-text("Sent during the outage")');
    await screenshot(bob, 'chat-reconnecting');
    await h.app.gateway.start();
    for (const t of [alice, bob]) {
      await waitLive(t, 20_000);
      await t.page.waitForSelector('.msg:not(.pending) .msg-text:has-text("Sent during the outage")', { timeout: 15_000 });
      expect(await count(t, '.msg')).toBe(4);
    }
    // The SQLite file holds every message, once.
    const rows = h.app.store.messages('general').map((m) => `${m.author}: ${m.text}`);
    expect(rows).toEqual([
      'alice: Morning Bob! Is the release still on for Thursday?',
      'bob: Yes, Thursday. Priya owns the rollout.',
      'alice: Written while you were offline',
      'bob: Sent during the outage',
    ]);
    // Opening a conversation loads its history from the database.
    await bob.page.click('[data-conversation=design]');
    await bob.page.waitForSelector('text=No messages yet');
    await bob.page.click('[data-conversation=general]');
    await bob.page.waitForFunction(() => document.querySelectorAll('.msg').length === 4);
    expect(await bob.page.locator('.msg-text').allTextContents()).toEqual(rows.map((r) => r.slice(r.indexOf(': ') + 2)));

    await alice.page.fill('[data-testid=composer]', 'Great, see you at the stand-up');
    await bob.page.waitForSelector('[data-testid=typing]:has-text("alice is typing")', { timeout: 5000 });
    await screenshot(bob, 'chat');
  });

  it('background jobs: the Python worker reports every checkpoint; each user sees only their own jobs, in the UI and on the wire', async () => {
    const alice = await person('alice', 'jobs');
    const bob = await person('bob', 'jobs');
    for (const t of [alice, bob]) await t.page.waitForSelector('text=No jobs yet');

    const since = Date.now();
    await alice.page.fill('[data-testid=job-name]', 'Board pack Q3.pdf');
    await alice.page.selectOption('[data-testid=job-chunks]', '6');
    await alice.page.click('[data-testid=job-submit]');
    await alice.page.waitForSelector('[data-testid=job-dialog]');
    await bob.page.fill('[data-testid=job-name]', 'Bob contract.docx');
    await bob.page.check('[data-testid=job-fail]');
    await bob.page.click('[data-testid=job-submit]');
    // The active checkpoint, not the static step label ("Processing chunks" is always in the list).
    await alice.page.waitForSelector('[data-testid=job-dialog] .checkpoint-active:has-text("Processing chunks")', { timeout: 10_000 });
    await screenshot(alice, 'jobs-dialog');

    // Crash the gateway mid-job: the worker retries its publishes, and the page ends with the final checkpoint.
    await crashAndRestartGateway(h, [alice, bob]);
    await alice.page.waitForSelector('[data-testid=jobs] [data-status=done][data-progress="100"]', { timeout: 20_000 });
    await bob.page.waitForSelector('[data-testid=jobs] [data-status=failed]', { timeout: 20_000 });
    await alice.page.waitForSelector('[data-testid=dialog-progress]:has-text("100%")');

    const aliceJob = h.app.store.jobs('alice')[0]!;
    const bobJob = h.app.store.jobs('bob')[0]!;
    expect(aliceJob).toMatchObject({ status: 'done', progress: 100, stage: 'done' });
    expect(bobJob).toMatchObject({ status: 'failed', stage: 'failed' });
    // Neither sees the other's job, on the page or in any frame the page received.
    expect(await count(alice, `[data-job=${bobJob.id}]`)).toBe(0);
    expect(await count(bob, `[data-job=${aliceJob.id}]`)).toBe(0);
    expect(bob.framesIn.some((f) => f.includes(aliceJob.id) || f.includes('Board pack'))).toBe(false);
    expect(alice.framesIn.some((f) => f.includes(bobJob.id) || f.includes('Bob contract'))).toBe(false);
    // The frames alice did receive carried her checkpoints, in order.
    const progress = alice.framesIn
      .flatMap((f) => f.split('\n'))
      .map((f) => JSON.parse(f) as { type?: string; data?: { job?: string; progress?: number } })
      .filter((f) => f.type === 'pub' && f.data?.job === aliceJob.id)
      .map((f) => f.data!.progress!);
    expect(progress.length).toBeGreaterThan(0);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(repeated(requestsSince(alice, since))).toEqual([]);
    await alice.page.click('[data-testid=dialog-close]');
    await screenshot(alice, 'jobs');
  });

  it('audio analysis: clips one after another over one connection with partial results, cancel, and a forced SSE transport', async () => {
    const alice = await person('alice', 'analysis');
    const bob = await person('bob', 'analysis');
    const wsBefore = alice.framesIn.length;
    const socketsBefore = alice.sockets;

    const since = Date.now();
    await Promise.all([alice.page.click('[data-testid=analyse]'), bob.page.click('[data-testid=analyse]')]);
    await alice.page.waitForSelector('[data-testid=now]');
    await screenshot(alice, 'analysis-running');
    for (const t of [alice, bob]) await t.page.waitForSelector('[data-run=birds][data-status=done]', { timeout: 20_000 });
    for (const t of [alice, bob]) {
      expect(await count(t, '[data-status=done]')).toBe(3);
      for (const ms of await t.page.locator('[data-testid=start-ms]').allTextContents()) expect(ms).toMatch(/^\d+ ms$/);
    }
    // Partial results came over alice's one WebSocket; no HTTP request at all.
    expect(alice.framesIn.slice(wsBefore).filter((f) => f.includes('"chunk"')).length).toBeGreaterThan(10);
    expect(requestsSince(alice, since)).toEqual([]);
    expect(alice.sockets).toBe(socketsBefore);
    await screenshot(alice, 'analysis');

    // Cancel stops the call in flight and the rest of the queue.
    await alice.page.click('[data-testid=analyse]');
    await alice.page.waitForSelector('[data-testid=now]');
    await alice.page.click('[data-testid=cancel]');
    await alice.page.waitForSelector('[data-run=birds][data-status=cancelled]');
    expect(await count(alice, '[data-status=done]')).toBeLessThan(3);

    // A gateway crash between runs: the page reconnects, and the next run works.
    await crashAndRestartGateway(h, [alice, bob]);

    // Forced SSE: the transport says so, and the only traffic is the event stream plus one POST per command.
    await alice.page.click('[data-testid=force-sse]');
    await alice.page.waitForSelector('[data-testid=connection][data-state=connected][data-transport=sse]');
    await alice.page.waitForSelector('[data-testid=transport]:has-text("SSE")');
    const sseSince = Date.now();
    await alice.page.click('[data-testid=analyse]');
    await alice.page.waitForSelector('[data-run=birds][data-status=done]', { timeout: 20_000 });
    const sse = requestsSince(alice, sseSince);
    expect(sse.filter((r) => r !== 'POST /sse/command').every((r) => r === 'GET /sse')).toBe(true);
    expect(sse.filter((r) => r === 'POST /sse/command').length).toBeLessThanOrEqual(3);
    expect(await alice.page.locator('[data-run] td:nth-child(3)').allTextContents()).toEqual(['SSE', 'SSE', 'SSE']);
    await screenshot(alice, 'analysis-sse');
    // Back to the WebSocket for the tests after this one (the choice is per tab).
    await alice.page.click('[data-testid=force-sse]');
    await alice.page.waitForSelector('[data-testid=connection][data-state=connected][data-transport=websocket]');
  });

  it('devices: one user in two tabs shares session presence, typing, mood and notifications; another user sees none of it', async () => {
    const laptop = await person('dana', 'devices');
    const phone = await signedIn(h, 'dana', 'devices', await laptop.page.context().browser()!.newContext({ viewport: { width: 1280, height: 820 } }));
    contexts.push(phone.page.context());
    tabs.push(phone);
    const eve = await person('eve', 'devices');
    await laptop.page.waitForFunction(() => document.querySelectorAll('[data-testid=devices] li').length === 2);

    for (const t of [laptop, phone]) await t.page.click('[data-testid=session-toggle]');
    for (const t of [laptop, phone]) await t.page.waitForFunction(() => document.querySelectorAll('[data-testid=session-members] li').length === 2);

    const since = Date.now();
    await phone.page.click('[data-mood-option="in a meeting"]');
    await laptop.page.waitForSelector('[data-testid=mood][data-mood="in a meeting"]');
    await laptop.page.fill('[data-testid=notify-title]', 'Slides uploaded');
    await laptop.page.click('[data-testid=notify]');
    for (const t of [laptop, phone]) await t.page.waitForSelector('[data-testid=notifications] >> text=Slides uploaded');
    expect(requestsSince(laptop, since)).toEqual(['POST /api/devices/notifications']);

    const phoneName = (await phone.page.textContent('[data-testid=device]'))!;
    await phone.page.fill('[data-testid=session-notes]', 'Remember to send the slides');
    await laptop.page.waitForSelector(`[data-testid=session-typing]:has-text("${phoneName} is typing")`, { timeout: 5000 });
    await screenshot(laptop, 'devices');

    // The gateway crashes; a notification sent while it is down reaches both devices once it is back.
    await h.app.gateway.stop('SIGKILL');
    for (const t of [laptop, phone]) await t.page.waitForSelector('[data-testid=connection][data-state=reconnecting]');
    const sent = laptop.page.evaluate(() => {
      const session = JSON.parse(sessionStorage.getItem('tidings-showcase:session')!).session;
      return fetch('/api/devices/notifications', {
        method: 'POST',
        headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'During the outage', body: 'queued by the backend', device: 'script' }),
      }).then((r) => r.status);
    });
    await h.app.gateway.start();
    expect(await sent).toBe(200);
    for (const t of [laptop, phone]) {
      await waitLive(t, 20_000);
      await t.page.waitForSelector('[data-testid=notifications] >> text=During the outage', { timeout: 15_000 });
      expect(await count(t, '[data-testid=notifications] li')).toBe(2);
    }
    // Leaving the session shows on the other device.
    await phone.page.click('[data-testid=session-toggle]');
    await laptop.page.waitForFunction(() => document.querySelectorAll('[data-testid=session-members] li').length === 1);
    // Another user sees none of dana's mood or notifications.
    expect(await eve.page.getAttribute('[data-testid=mood]', 'data-mood')).toBe('');
    expect(await count(eve, '[data-testid=notifications] li')).toBe(0);
    expect(eve.framesIn.some((f) => f.includes('Slides uploaded'))).toBe(false);
  });
});
