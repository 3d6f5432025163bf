/**
 * pusher-js's browser build (dist/web/pusher.min.js, as a page would load
 * it) in headless Chromium against Tidings: the page's backend signs channel
 * authorizations with the `pusher` SDK at /pusher/auth, as a real one does;
 * the page shows its connection state, who is here, and the events it got.
 * The screenshot goes to docs/img only with UPDATE_SCREENSHOTS=1.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { type TestGateway, until } from './helpers.js';
import { launchChromium, skipWithoutChromium } from './browser-helpers.js';
import { APP, collect, connected, pusherClient, serverSdk, startPusherGateway, subscribed } from './pusher-helpers.js';

const ROOT = resolve(import.meta.dirname, '..');
const PUSHER_JS = readFileSync(join(ROOT, 'node_modules/pusher-js/dist/web/pusher.min.js'));
const SHOT_DIR = process.env.UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs/img') : mkdtempSync(join(tmpdir(), 'pusher-shots-'));

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Team room · Pusher on Tidings</title>
<style>
  body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: #f4f5f7; color: #1d2430; }
  header { display: flex; align-items: center; justify-content: space-between; padding: 16px 28px; background: #fff; border-bottom: 1px solid #e3e6eb; }
  h1 { font-size: 18px; margin: 0; font-weight: 600; }
  h1 small { color: #6b7380; font-weight: 400; margin-left: 8px; }
  .pill { font-size: 13px; padding: 4px 12px; border-radius: 999px; background: #eef0f3; color: #4a5260; }
  .pill::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 7px; background: currentColor; vertical-align: 1px; }
  .pill[data-state=connected] { background: #e4f6ea; color: #17803d; }
  .pill[data-state=connecting], .pill[data-state=unavailable] { background: #fff4dc; color: #9a6400; }
  .pill[data-state=failed], .pill[data-state=disconnected] { background: #fde8e8; color: #b42318; }
  main { display: grid; grid-template-columns: 260px 1fr; gap: 20px; padding: 24px 28px; max-width: 960px; }
  section { background: #fff; border: 1px solid #e3e6eb; border-radius: 10px; padding: 16px 18px; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: #6b7380; margin: 0 0 12px; }
  ul { list-style: none; margin: 0; padding: 0; }
  li { padding: 8px 0; border-top: 1px solid #f0f1f4; display: flex; gap: 10px; align-items: center; }
  li:first-child { border-top: 0; }
  .avatar { width: 28px; height: 28px; border-radius: 50%; background: #dfe7ff; color: #2f4fb5; display: grid; place-items: center; font-weight: 600; font-size: 13px; }
  .me { color: #6b7380; font-size: 13px; }
  .event b { font-weight: 600; } .event time { margin-left: auto; color: #8a919c; font-size: 12px; font-variant-numeric: tabular-nums; }
  .empty { color: #8a919c; font-style: italic; padding: 8px 0; }
</style></head>
<body>
<header><h1>Team room <small>presence-team · pusher-js on Tidings</small></h1><span id="state" class="pill" data-state="connecting">Connecting…</span></header>
<main>
  <section><h2>Who's here</h2><ul id="members"></ul><p id="members-empty" class="empty">Nobody yet</p></section>
  <section><h2>Events</h2><ul id="events"></ul><p id="events-empty" class="empty">No events yet. They appear here as the server sends them.</p></section>
</main>
<script src="/pusher.min.js"></script>
<script>
  const q = new URLSearchParams(location.search);
  const LABELS = { initialized: 'Connecting…', connecting: 'Connecting…', connected: 'Live', unavailable: 'Reconnecting…', failed: 'Connection failed', disconnected: 'Disconnected' };
  const pusher = new Pusher(q.get('key'), { cluster: 'local', wsHost: '127.0.0.1', wsPort: Number(q.get('port')), forceTLS: false, enabledTransports: ['ws'], disableStats: true,
    channelAuthorization: { endpoint: '/pusher/auth?user=' + encodeURIComponent(q.get('user')) + '&name=' + encodeURIComponent(q.get('name')), transport: 'ajax' } });
  const state = document.getElementById('state');
  pusher.connection.bind('state_change', ({ current }) => { state.dataset.state = current; state.textContent = LABELS[current] || current; });
  const room = pusher.subscribe('presence-team');
  function renderMembers() {
    const list = document.getElementById('members');
    list.replaceChildren();
    room.members.each((m) => {
      const li = document.createElement('li');
      li.dataset.member = m.id;
      const av = document.createElement('span'); av.className = 'avatar'; av.textContent = m.info.name[0];
      const name = document.createElement('span'); name.textContent = m.info.name;
      li.append(av, name);
      if (m.id === room.members.me.id) { const me = document.createElement('span'); me.className = 'me'; me.textContent = '(you)'; li.append(me); }
      list.append(li);
    });
    document.getElementById('members-empty').hidden = room.members.count > 0;
  }
  room.bind('pusher:subscription_succeeded', renderMembers);
  room.bind('pusher:member_added', renderMembers);
  room.bind('pusher:member_removed', renderMembers);
  room.bind('deploy', (d) => {
    const li = document.createElement('li'); li.className = 'event';
    const what = document.createElement('span'); what.innerHTML = '<b></b> '; what.firstChild.textContent = d.service; what.append(d.status);
    const at = document.createElement('time'); at.textContent = d.at;
    li.append(what, at);
    document.getElementById('events').append(li);
    document.getElementById('events-empty').hidden = true;
  });
</script></body></html>`;

/** The page, pusher.min.js, and the backend's /pusher/auth (signed with the server SDK). */
function pageServer(gatewayPort: number): Promise<{ server: Server; origin: string }> {
  const sdk = serverSdk(gatewayPort);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/pusher.min.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(PUSHER_JS);
    if (url.pathname === '/pusher/auth' && req.method === 'POST') {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const user = { user_id: url.searchParams.get('user')!, user_info: { name: url.searchParams.get('name')! } };
        const auth = sdk.authorizeChannel(form.get('socket_id')!, form.get('channel_name')!, user);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(auth));
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ server, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

describe.skipIf(skipWithoutChromium)('pusher-js in Chromium', () => {
  let browser: Browser;
  let gateway: TestGateway;
  let page: { server: Server; origin: string };

  beforeAll(async () => {
    gateway = await startPusherGateway();
    page = await pageServer(gateway.port);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    page?.server.close();
    await gateway?.close();
  });

  it('shows the live state, who is here and the events the server sends', async () => {
    const tab = await browser.newPage({ viewport: { width: 1000, height: 300 } });
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.goto(`${page.origin}/?key=${APP.key}&port=${gateway.port}&user=maya&name=Maya`);
    await tab.waitForSelector('#state[data-state=connected]', { timeout: 15_000 });
    await tab.waitForSelector('[data-member=maya]', { timeout: 15_000 });
    expect(await tab.isVisible('#events-empty')).toBe(true);

    const sam = pusherClient(gateway.port, { user: { id: 'sam', info: { name: 'Sam' } } });
    await connected(sam);
    const samRoom = await subscribed(sam, 'presence-team');
    expect(Object.keys(samRoom.data.members).sort()).toEqual(['maya', 'sam']);
    await tab.waitForSelector('[data-member=sam]', { timeout: 15_000 });

    const sdk = serverSdk(gateway.port);
    const samDeploys = collect(samRoom.channel, 'deploy');
    await sdk.trigger('presence-team', 'deploy', { service: 'billing-api', status: 'deployed to production', at: '10:42' });
    await sdk.trigger('presence-team', 'deploy', { service: 'search', status: 'rolled back to v2.3.1', at: '10:47' });
    await tab.waitForFunction(() => document.querySelectorAll('#events li').length === 2, undefined, { timeout: 15_000 });
    await until(() => samDeploys.length === 2);
    expect(await tab.isVisible('#events-empty')).toBe(false);
    expect(await tab.textContent('#state')).toBe('Live');
    expect(await tab.locator('#events li').allTextContents()).toEqual(['billing-api deployed to production10:42', 'search rolled back to v2.3.110:47']);
    await tab.screenshot({ path: join(SHOT_DIR, 'pusher-browser.png') });

    sam.disconnect();
    await tab.waitForSelector('[data-member=sam]', { state: 'detached', timeout: 15_000 });
    expect(errors).toEqual([]);
    await tab.close();
  });
});
