/** The backend's HTTP API, with the demo session attached. Used for actions and load(), never for polling. */
export interface SessionInfo {
  user: string;
  session: string;
}

const SESSION_KEY = 'tidings-showcase:session';
const DEVICE_KEY = 'tidings-showcase:device';
const DEVICES = ['Laptop', 'Phone', 'Tablet', 'Desktop', 'Watch'];

export function savedSession(): SessionInfo | null {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null') as SessionInfo | null;
    return s && typeof s.user === 'string' && typeof s.session === 'string' ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(s: SessionInfo | null): void {
  if (s) sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
  else sessionStorage.removeItem(SESSION_KEY);
}

/** This tab's device name (each tab is one "device"), shown to the user's other devices. */
export function deviceName(): string {
  let d = sessionStorage.getItem(DEVICE_KEY);
  if (!d) {
    d = `${DEVICES[Math.floor(Math.random() * DEVICES.length)]} ${Math.random().toString(36).slice(2, 5)}`;
    sessionStorage.setItem(DEVICE_KEY, d);
  }
  return d;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init: { method?: string; body?: unknown; raw?: Blob; headers?: Record<string, string> } = {}): Promise<T> {
  const session = savedSession();
  const headers: Record<string, string> = { 'x-device': deviceName(), ...init.headers };
  if (session) headers.authorization = `Bearer ${session.session}`;
  let body: BodyInit | undefined;
  if (init.raw) body = init.raw;
  else if (init.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.body);
  }
  const res = await fetch(path, { method: init.method ?? (body ? 'POST' : 'GET'), headers, ...(body ? { body } : {}) });
  const data = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw new ApiError(res.status, data.error ?? `HTTP ${res.status}`);
  return data as T;
}

export const initials = (name: string) => name.slice(0, 2).toUpperCase();

/** A stable hue per user, for avatars. */
export function hue(name: string): number {
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) % 360;
  return h;
}

export function timeOf(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
