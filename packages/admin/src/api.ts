/**
 * The dashboard's calls to /admin/api (same origin, the session cookie goes
 * by itself). Every POST carries the session's CSRF token; a 401 means the
 * session ended, and the page asks to sign in again.
 */
import { UnauthorizedError } from '@tidings/client';

export class SignedOut extends Error {}

let csrf: string | undefined;
/** Set when the user signs out: a reload still scheduled (the channel view's) must not reach the server and be refused. */
let signedOut = false;
/** Calls on their way: signing out waits for them, so none is answered 401 by the session it revokes. */
const pending = new Set<Promise<unknown>>();

function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  if (signedOut) return Promise.reject(new SignedOut('You signed out.'));
  const p = request<T>(method, path, body);
  pending.add(p);
  void p.finally(() => pending.delete(p)).catch(() => {});
  return p;
}

async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method === 'POST') {
    headers['content-type'] = 'application/json';
    headers['x-tidings-csrf'] = await csrfToken();
  }
  const res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  if (res.status === 401) throw new SignedOut('Your session has ended.');
  const json = (await res.json().catch(() => ({}))) as T & { error?: { code: number; message: string } };
  if (!res.ok) throw new Error(json.error ? `${json.error.message} (code ${json.error.code})` : `HTTP ${res.status}`);
  return json;
}

async function csrfToken(): Promise<string> {
  csrf ??= (await call<{ csrf: string }>('GET', '/admin/api/session')).csrf;
  return csrf;
}

export interface NodeInfo {
  id: string;
  address: string;
  connections: number;
  users: number;
  channels: number;
  uptime: number;
  updated: number;
}

export interface ChannelView {
  channel: string;
  namespace: string;
  subscribersHere: number;
  presence: { enabled: boolean; total: number; clients: Array<{ client: string; user: string }> };
  history: { enabled: boolean; offset: number; epoch: string; publications: Array<{ offset: number; time: number; data: unknown; user?: string }> };
}

export const api = {
  nodes: () => call<{ nodes: NodeInfo[] }>('GET', '/admin/api/nodes'),
  channel: (channel: string) => call<ChannelView>('POST', '/admin/api/channel', { channel }),
  publish: (channel: string, data: unknown) => call<{ offset: number; epoch: string }>('POST', '/admin/api/publish', { channel, data }),
  disconnect: (user: string, reconnect: boolean) => call<object>('POST', '/admin/api/disconnect', { user, reconnect }),
  /** Refuse new calls, let those on their way finish (2 s at most), then end the session. */
  async logout(): Promise<void> {
    await csrfToken(); // the POST below needs it, and call() refuses from the next line on
    signedOut = true;
    await Promise.race([Promise.allSettled([...pending]), new Promise((done) => setTimeout(done, 2000))]);
    await request<object>('POST', '/admin/logout', {});
  },
  /** For the client's getToken: a signed-out session stops the client for good (state `failed`). */
  async token(): Promise<string> {
    try {
      return (await call<{ token: string }>('POST', '/admin/api/token', {})).token;
    } catch (err) {
      if (err instanceof SignedOut) throw new UnauthorizedError(err.message);
      throw err;
    }
  },
};
