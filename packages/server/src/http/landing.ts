/**
 * GET /: a small page for a person who opens the gateway's address in a
 * browser. It says what this is, the node's status, the endpoints, how to try
 * it, and links to the docs and to other pages the node serves (an admin page,
 * a showcase) when they exist. Plain HTML and CSS: no script, nothing fetched.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/schema.js';
import type { NodeInfo } from '../engine/nodes.js';

export interface LandingLink {
  label: string;
  href: string;
  /** One line saying what is there. */
  note?: string;
}

export interface LandingStatus {
  nodeId: string;
  ready: boolean;
  /** Why not ready, in words, when not. */
  notReady?: string;
  engine: 'memory' | 'redis';
  uptimeSeconds: number;
  connections: number;
  channels: number;
  /** The Host header of the request, to show URLs a visitor can use as they are. */
  host: string;
  devSecrets: boolean;
  docsUrl?: string;
  links: LandingLink[];
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

function uptime(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86_400)} days`;
}

const STYLE = `
  :root { color-scheme: light dark; --fg: #1d2330; --muted: #5d6678; --bg: #f6f7fb; --card: #fff; --line: #e2e5ee; --ok: #1a7f4b; --bad: #b42318; --accent: #3b5bdb; }
  @media (prefers-color-scheme: dark) { :root { --fg: #e6e8ef; --muted: #9aa3b5; --bg: #12151c; --card: #1a1e27; --line: #2a303c; --ok: #4cc38a; --bad: #ff6b5e; --accent: #8da2fb; } }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
  main { max-width: 760px; margin: 0 auto; padding: 40px 20px 56px; }
  header h1 { margin: 0; font-size: 28px; letter-spacing: -0.02em; }
  header p { margin: 4px 0 0; color: var(--muted); }
  section { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 18px 20px; margin-top: 18px; }
  h2 { margin: 0 0 10px; font-size: 13px; text-transform: uppercase; letter-spacing: 0.08em; color: var(--muted); }
  .status { display: flex; align-items: center; gap: 10px; font-size: 18px; font-weight: 600; }
  .dot { width: 12px; height: 12px; border-radius: 50%; background: var(--ok); box-shadow: 0 0 0 4px color-mix(in srgb, var(--ok) 20%, transparent); }
  .down .dot { background: var(--bad); box-shadow: 0 0 0 4px color-mix(in srgb, var(--bad) 20%, transparent); }
  .down { color: var(--bad); }
  dl { display: grid; grid-template-columns: repeat(auto-fit, minmax(100px, 1fr)); gap: 12px; margin: 14px 0 0; }
  dt { color: var(--muted); font-size: 12px; }
  dd { margin: 0; font-size: 17px; font-weight: 600; font-variant-numeric: tabular-nums; }
  table { width: 100%; border-collapse: collapse; }
  td { padding: 6px 0; border-top: 1px solid var(--line); vertical-align: top; }
  tr:first-child td { border-top: 0; }
  td:first-child { color: var(--muted); width: 150px; }
  td code { overflow-wrap: anywhere; }
  @media (max-width: 560px) {
    td { display: block; width: auto !important; }
    td:first-child { padding-bottom: 0; }
    td + td { border-top: 0; padding-top: 2px; }
  }
  code, pre { font: 13px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
  pre { margin: 0; padding: 12px 14px; background: var(--bg); border: 1px solid var(--line); border-radius: 8px; overflow-x: auto; }
  a { color: var(--accent); text-decoration: none; }
  a:hover { text-decoration: underline; }
  ul { margin: 0; padding-left: 18px; }
  .note { color: var(--muted); font-size: 13px; margin: 10px 0 0; }
  .warn { border-color: color-mix(in srgb, #d97706 50%, var(--line)); }
`;

export function renderLanding(s: LandingStatus): string {
  const http = `http://${s.host}`;
  const ws = `ws://${s.host}`;
  const state = s.ready ? 'Ready' : `Not ready${s.notReady ? `: ${s.notReady}` : ''}`;
  const links = [
    ...s.links,
    { label: 'Health', href: '/health', note: 'liveness: 200 while the process serves' },
    { label: 'Ready', href: '/ready', note: 'readiness: 200 when it accepts clients and its engine answers' },
    { label: 'Metrics', href: '/metrics', note: 'Prometheus text' },
  ];
  const docs = s.docsUrl
    ? `<a href="${esc(s.docsUrl)}">${esc(s.docsUrl)}</a>`
    : 'README.md and docs/ in the Tidings source; <code>npx tidings --help</code> on the machine that runs it.';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tidings gateway · ${esc(state)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header>
  <h1>Tidings</h1>
  <p>A real-time gateway: backends publish over HTTP, browsers and apps receive over a WebSocket (or SSE), in order, and recover what they missed.</p>
</header>
<section aria-label="status">
  <h2>This node</h2>
  <div class="status${s.ready ? '' : ' down'}"><span class="dot"></span>${esc(state)}</div>
  <dl>
    <div><dt>Node</dt><dd>${esc(s.nodeId)}</dd></div>
    <div><dt>Engine</dt><dd>${s.engine === 'redis' ? 'Redis' : 'embedded'}</dd></div>
    <div><dt>Up</dt><dd>${uptime(s.uptimeSeconds)}</dd></div>
    <div><dt>Connections</dt><dd>${s.connections}</dd></div>
    <div><dt>Channels</dt><dd>${s.channels}</dd></div>
  </dl>
</section>
${s.devSecrets ? `<section class="warn" aria-label="development secrets">
  <h2>Development mode</h2>
  This node runs on generated development secrets and listens on this machine only. Print the API key with <code>npx tidings dev-secrets api-key</code>; set <code>TIDINGS_API_KEY</code> and <code>TIDINGS_TOKEN_SECRET</code> in production.
</section>` : ''}
<section aria-label="endpoints">
  <h2>Endpoints</h2>
  <table>
    <tr><td>WebSocket</td><td><code>${esc(ws)}/ws</code></td></tr>
    <tr><td>SSE fallback</td><td><code>${esc(http)}/sse</code></td></tr>
    <tr><td>HTTP API</td><td><code>POST ${esc(http)}/api/publish</code> with <code>Authorization: apikey …</code></td></tr>
  </table>
</section>
<section aria-label="try it">
  <h2>Try it</h2>
<pre>npx tidings subscribe news
npx tidings publish news '{"hello": "world"}'</pre>
  <p class="note">Run both in the project folder of this gateway, in two terminals.</p>
</section>
<section aria-label="links">
  <h2>Links</h2>
  <ul>
    <li>Documentation: ${docs}</li>
${links.map((l) => `    <li><a href="${esc(l.href)}">${esc(l.label)}</a>${l.note ? ` · <span class="note">${esc(l.note)}</span>` : ''}</li>`).join('\n')}
  </ul>
</section>
</main>
</body>
</html>
`;
}

/** The page for this node: its registry entry, whether it is ready, and its configuration. */
export function serveLanding(req: IncomingMessage, res: ServerResponse, node: NodeInfo, ready: boolean, config: Config): void {
  const body = renderLanding({
    nodeId: node.id,
    ready,
    ...(ready ? {} : { notReady: config.engine.type === 'redis' ? 'Redis is unreachable, or the node is draining' : 'the node is draining' }),
    engine: config.engine.type,
    uptimeSeconds: node.uptime,
    connections: node.connections,
    channels: node.channels,
    host: /^[\w.:\[\]-]{1,300}$/.test(req.headers.host ?? '') ? req.headers.host! : `127.0.0.1:${req.socket.localPort ?? config.port}`,
    devSecrets: config.landing.devNotice,
    ...(config.landing.docsUrl ? { docsUrl: config.landing.docsUrl } : {}),
    links: config.landing.links,
  });
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}
