/**
 * Test harness for the hooks: a `ws` WebSocket that records every frame the
 * client sends (so tests can count subscribe commands on the wire), and
 * small rendering helpers. The gateway is the real one from test/helpers.ts.
 */
import { createHmac } from 'node:crypto';
import { configure } from '@testing-library/react';
import { StrictMode, type ReactNode, createElement } from 'react';
import WebSocket from 'ws';
import { TidingsProvider } from '@tidings/react';
import { SECRET, type TestGateway } from '../../../test/helpers.js';

// waitFor's default 1 s is tight on a loaded two-core machine; a real failure still fails, later.
configure({ asyncUtilTimeout: 5000 });

export const h = createElement;

export class RecordingWebSocket extends WebSocket {
  static sockets: RecordingWebSocket[] = [];
  readonly sent: any[] = [];

  constructor(url: string) {
    super(url);
    RecordingWebSocket.sockets.push(this);
    this.on('message', (data, isBinary) => {
      if (!isBinary) for (const line of data.toString().split('\n')) if (line) this.received.push(JSON.parse(line));
    });
  }

  /** Every text frame received, parsed. */
  readonly received: any[] = [];

  override send(data: any, ...rest: any[]): void {
    if (typeof data === 'string') for (const line of data.split('\n')) if (line) this.sent.push(JSON.parse(line));
    (super.send as (...a: any[]) => void)(data, ...rest);
  }

  static reset(): void {
    RecordingWebSocket.sockets = [];
  }

  static get frames(): any[] {
    return RecordingWebSocket.sockets.flatMap((s) => s.sent);
  }

  /** Subscribe requests for `channel` on the wire: subscribe commands plus entries in connect's `subs`. */
  static subscribes(channel: string): number {
    let n = 0;
    for (const f of RecordingWebSocket.frames) {
      if (f.method === 'subscribe' && f.params?.channel === channel) n++;
      if (f.method === 'connect') n += (f.params?.subs ?? []).filter((s: any) => s.channel === channel).length;
    }
    return n;
  }

  /** Publication pushes for `channel` received so far, on any socket. */
  static pubs(channel: string): any[] {
    return RecordingWebSocket.sockets.flatMap((s) => s.received).filter((f) => f.type === 'pub' && f.channel === channel);
  }

  static unsubscribes(channel: string): number {
    return RecordingWebSocket.frames.filter((f) => f.method === 'unsubscribe' && f.params?.channel === channel).length;
  }
}

/**
 * An HS256 token for `user`, signed with node:crypto: under jsdom, jose's
 * web build refuses the key (a Uint8Array from another realm), so the
 * harness's t.token() cannot be used in these files.
 */
export function token(user: string, claims: Record<string, unknown> = {}): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: user, iat: now, exp: now + 3600, ...claims })}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

/** A strict-mode tree under a provider that connects to `t` as `user`. */
export function app(t: TestGateway, user: string, children: ReactNode, url = t.wsUrl, extra: Record<string, unknown> = {}): ReactNode {
  return h(
    StrictMode,
    null,
    h(TidingsProvider, {
      url,
      getToken: () => token(user),
      WebSocket: RecordingWebSocket,
      minReconnectDelay: 50,
      maxReconnectDelay: 200,
      ...extra,
      children,
    }),
  );
}

/** Subscribers of `channel` on the gateway, from its HTTP API. */
export async function serverSubscribers(t: TestGateway, channel: string): Promise<number> {
  const r = await t.api('/api/channels');
  return (r.body.channels as Array<{ channel: string; subscribers: number }>).find((c) => c.channel === channel)?.subscribers ?? 0;
}
