/**
 * The pages the gateway renders itself: the login form, and what /admin says
 * when the dashboard is off or not built. Plain HTML and CSS, no script, in
 * the dashboard's dark look.
 */
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const STYLE = `
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:#111217;color:#d8d9da;
font:14px/1.5 Inter,"Segoe UI",system-ui,-apple-system,sans-serif}
.card{width:360px;background:#181b1f;border:1px solid #2c3235;border-radius:6px;padding:28px 28px 24px}
.brand{display:flex;align-items:center;gap:10px;margin-bottom:20px;font-weight:600;font-size:16px;color:#fff}
.brand small{font-weight:400;color:#8e8e8e;font-size:13px}
h1{font-size:18px;margin:0 0 6px;color:#fff}
p{margin:0 0 16px;color:#a0a4ab}
label{display:block;font-size:12px;color:#a0a4ab;margin-bottom:6px}
input{width:100%;padding:9px 10px;background:#0b0c0e;color:#fff;border:1px solid #34383e;border-radius:4px;font:inherit}
input:focus{outline:none;border-color:#3d71d9;box-shadow:0 0 0 2px rgba(61,113,217,.25)}
button{margin-top:16px;width:100%;padding:9px;border:0;border-radius:4px;background:#3d71d9;color:#fff;font:inherit;font-weight:600;cursor:pointer}
button:hover{background:#4a7fe6}
.error{background:rgba(224,47,68,.12);border:1px solid rgba(224,47,68,.5);color:#ff7383;padding:8px 10px;border-radius:4px;margin-bottom:14px;font-size:13px}
code{background:#0b0c0e;border:1px solid #2c3235;border-radius:3px;padding:1px 5px;font-size:12px;color:#e0e0e0}
.foot{margin-top:16px;font-size:12px;color:#6e7378}`;

const LOGO = `<svg width="26" height="26" viewBox="0 0 32 32" aria-hidden="true"><circle cx="16" cy="16" r="14" fill="#3d71d9"/><path d="M8 18c3-5 5-5 8 0s5 5 8 0" stroke="#fff" stroke-width="3" fill="none" stroke-linecap="round"/></svg>`;

const ICON = `data:image/svg+xml,${encodeURIComponent(LOGO.replace(' aria-hidden="true"', ' xmlns="http://www.w3.org/2000/svg"'))}`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)} · Tidings admin</title><link rel="icon" href="${ICON}"><style>${STYLE}</style></head><body><main class="card">
<div class="brand">${LOGO}<span>Tidings <small>admin</small></span></div>${body}</main></body></html>`;
}

export function loginPage(error?: string): string {
  const alert = error ? `<div class="error" role="alert">${esc(error)}</div>` : '';
  return page(
    'Sign in',
    `<h1>Sign in</h1><p>Enter the admin secret of this gateway.</p>${alert}
<form method="post" action="/admin/login"><label for="secret">Admin secret</label>
<input id="secret" name="secret" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button></form>
<div class="foot">The secret is <code>admin.secret</code> (or <code>TIDINGS_ADMIN_SECRET</code>) in the gateway's configuration.</div>`,
  );
}

export function notEnabledPage(): string {
  return page(
    'Not enabled',
    `<h1>The admin dashboard is not enabled</h1><p>This gateway has no admin secret, so /admin is off.</p>
<p>To turn it on, set <code>admin.secret</code> in the configuration or <code>TIDINGS_ADMIN_SECRET</code> in the environment
(at least 24 characters), and restart the gateway.</p>`,
  );
}

export function notBuiltPage(dir: string): string {
  return page(
    'Not built',
    `<h1>The dashboard is not built</h1><p>You are signed in, but the dashboard's files were not found in <code>${esc(dir)}</code>.</p>
<p>Run <code>npm run build</code> at the root of the repository, or set <code>admin.assetsDir</code>.</p>`,
  );
}
