/**
 * A real webhook backend on 127.0.0.1 (node:http): checks each request's
 * signature the way docs/webhooks.md tells receivers to, answers with the
 * status the test scripts (500 three times, then 200…), and deduplicates
 * events by id, counting the duplicates that at-least-once delivery may send.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedEvent {
  id: string;
  name: string;
  time_ms: number;
  channel?: string;
  user?: string;
  client?: string;
  seq?: number;
  data?: unknown;
}

export interface ReceivedRequest {
  headers: IncomingMessage['headers'];
  body: string;
  signatureValid: boolean;
  status: number;
}

export interface Receiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Every event accepted (2xx), first delivery of each id only, in arrival order. */
  events: ReceivedEvent[];
  /** Deliveries of an id already accepted. */
  duplicates: number;
  /** Answer these statuses to the next requests, in turn; then 200. */
  failNext(...statuses: number[]): void;
  close(): Promise<void>;
}

export function validSignature(secret: string, body: string, header: string | undefined): boolean {
  const m = /^t=(\d+)((?:,v1=[0-9a-f]{64})+)$/.exec(header ?? '');
  if (!m) return false;
  if (Math.abs(Date.now() / 1000 - Number(m[1])) > 300) return false;
  const want = createHmac('sha256', secret).update(`${m[1]}.${body}`).digest();
  return m[2]!.split(',v1=').slice(1).some((hex) => timingSafeEqual(want, Buffer.from(hex, 'hex')));
}

export async function startReceiver(secret: string, port = 0): Promise<Receiver> {
  const plan: number[] = [];
  const seen = new Set<string>();
  const r: Receiver = {
    url: '',
    port: 0,
    requests: [],
    events: [],
    duplicates: 0,
    failNext: (...statuses) => void plan.push(...statuses),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const signatureValid = validSignature(secret, body, req.headers['tidings-signature'] as string | undefined);
      const status = !signatureValid ? 401 : (plan.shift() ?? 200);
      r.requests.push({ headers: req.headers, body, signatureValid, status });
      if (status === 200) {
        for (const e of (JSON.parse(body) as { events: ReceivedEvent[] }).events) {
          if (seen.has(e.id)) r.duplicates++;
          else (seen.add(e.id), r.events.push(e));
        }
      }
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  r.port = (server.address() as AddressInfo).port;
  r.url = `http://127.0.0.1:${r.port}/hooks/tidings`;
  return r;
}

/** The events of one name, as `channel/user` strings, for compact assertions. */
export function named(events: ReceivedEvent[], name: string): string[] {
  return events.filter((e) => e.name === name).map((e) => (e.user === undefined ? `${e.channel}` : `${e.channel}/${e.user}`));
}
