/**
 * A real HTTP backend on 127.0.0.1 for the proxy hooks: it checks every
 * request's signature the way docs/backends.md tells a backend to, records
 * the calls, and answers with what the test's handler returns.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { type IncomingHttpHeaders, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export const HOOK_SECRET = 'hook-secret-0123456789-abcdefghijklmnop';

export interface HookCall {
  path: string;
  body: any;
  raw: string;
  headers: IncomingHttpHeaders;
}

/** What a handler returns: an answer object (sent as 200 JSON), or a status with raw text, or `hang` (never answer). */
export type HookReply = object | { status: number; text: string } | 'hang';

/** Whether `headers` carry a valid Tidings-Signature of `raw` under `secret`, at most 300 s old. */
export function validSignature(secret: string, raw: string, headers: IncomingHttpHeaders): boolean {
  const header = String(headers['tidings-signature'] ?? '');
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!m || !headers['tidings-webhook-id']) return false;
  if (Math.abs(Date.now() / 1000 - Number(m[1])) > 300) return false;
  const want = createHmac('sha256', secret).update(`${m[1]}.${raw}`).digest();
  return timingSafeEqual(Buffer.from(m[2]!, 'hex'), want);
}

export async function startHookBackend(handle: (call: HookCall) => HookReply | Promise<HookReply>) {
  const calls: HookCall[] = [];
  let badSignatures = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      if (!validSignature(HOOK_SECRET, raw, req.headers)) {
        badSignatures++;
        res.writeHead(401).end();
        return;
      }
      const call = { path: req.url ?? '', body: JSON.parse(raw), raw, headers: req.headers };
      calls.push(call);
      void Promise.resolve(handle(call)).then((reply) => {
        if (reply === 'hang') return;
        if ('status' in reply && 'text' in reply) return void res.writeHead(reply.status as number).end(reply.text as string);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    get badSignatures() {
      return badSignatures;
    },
    callsTo: (path: string) => calls.filter((c) => c.path === path),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
