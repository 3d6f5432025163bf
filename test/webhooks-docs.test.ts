/**
 * The snippets of docs/webhooks.md (see test/snippets.ts): the shell ones run
 * as written against a real gateway and receiver, the JSON ones are parsed and
 * checked against the gateway's own schema and encoding, the SDK's header
 * format is compared with the doc's. Flask, FastAPI and Express are not
 * installed here: those receivers are syntax-checked only (NOT_RUN_HERE).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig, signToken } from '@tidings/server';
import { WEBHOOK_EVENTS } from '../packages/server/dist/config/webhooks.js';
import { encodeBatch, encodeEvent } from '../packages/server/dist/webhooks/event.js';
import { signatureHeader } from '../packages/server/dist/webhooks/signature.js';
import { RawPeer, freePort, until } from './helpers.js';
import { type Background, ROOT, snippetsOf, startShell } from './snippets.js';
import { startReceiver } from './webhook-receiver.js';

const run = promisify(execFile);
const snippets = snippetsOf('docs/webhooks.md');
const code = (name: string) => {
  const s = snippets.find((x) => x.name === name);
  if (!s) throw new Error(`no snippet ${name} in docs/webhooks.md`);
  return s.code;
};
const DOC_SECRET = 'use-a-long-random-secret-here';
const NOT_RUN_HERE: Record<string, string> = {
  'receiver-flask': 'Flask is not installed here (the same verify_webhook call runs in test/webhooks-python.test.ts)',
  'receiver-fastapi': 'FastAPI is not installed here',
  'receiver-express': 'Express is not installed here (no new npm packages); its verifyTidings is the check test/webhook-receiver.ts runs',
};
const RUN_HERE = ['webhooks-env', 'webhooks-config', 'webhook-body', 'signature-headers', 'receiver-python-run'];
/** Shell text as one single-quoted word, so a multi-line snippet runs as written. */
const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
const running: Background[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const b of running) await b.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('docs/webhooks.md', () => {
  it('names every snippet here, run or syntax-checked', () => {
    expect(snippets.map((s) => s.name).sort()).toEqual([...RUN_HERE, ...Object.keys(NOT_RUN_HERE)].sort());
  });

  it('webhooks-env: a gateway started so sends its events to the URL, signed with the secret', async () => {
    const rx = await startReceiver(DOC_SECRET);
    const dataDir = mkdtempSync(join(tmpdir(), 'tidings-wh-docs-'));
    dirs.push(dataDir);
    const port = await freePort();
    const script = code('webhooks-env').replace('127.0.0.1:8000', `127.0.0.1:${rx.port}`);
    const gw = await startShell(`bash -euo pipefail -c ${quote(script)}`, { ports: {}, env: { TIDINGS_DATA_DIR: dataDir, TIDINGS_PORT: String(port) } }, 'tidings listening');
    running.push(gw);
    const { hmacSecret } = JSON.parse(readFileSync(join(dataDir, 'dev-secrets.json'), 'utf8')) as { hmacSecret: string };
    const peer = await new RawPeer(`ws://127.0.0.1:${port}/ws`).open();
    expect((await peer.call('connect', { token: await signToken(hmacSecret, { sub: 'doc-user', ttlSeconds: 60 }) })).error).toBeUndefined();
    await until(() => rx.events.some((e) => e.name === 'user_connected' && e.user === 'doc-user'), 10_000, 'user_connected');
    expect(rx.requests.every((r) => r.signatureValid)).toBe(true);
    peer.close();
    await gw.stop();
    await rx.close();
  });

  it('webhooks-config is a valid configuration with the endpoints it shows', () => {
    const cfg = parseConfig(JSON.parse(code('webhooks-config')));
    expect(cfg.webhooks.endpoints.map((e) => e.url)).toEqual(['https://app.example.com/webhooks/tidings', 'https://audit.example.com/tidings']);
    expect(cfg.webhooks.endpoints[1]!.events).toEqual(['user_connected', 'user_disconnected']);
    expect(cfg.webhooks.batchMaxWait).toBe(200);
  });

  it('webhook-body has the shape the gateway sends', () => {
    const doc = JSON.parse(code('webhook-body')) as { events: Array<Record<string, unknown>> };
    for (const e of doc.events) {
      expect(WEBHOOK_EVENTS).toContain(e.name);
      expect(e.id).toMatch(/^evt_[A-Za-z0-9_-]{22}$/);
      // The same fields, in the same order, as the gateway's own encoding of that event.
      const { id: _id, name, time_ms, data, ...rest } = e;
      const real = JSON.parse(encodeBatch([encodeEvent({ name: name as never, ...(rest as object), data: data === undefined ? undefined : JSON.stringify(data) }, time_ms as number)])).events[0];
      expect(Object.keys(real)).toEqual(Object.keys(e));
    }
  });

  it('signature-headers is the format the Python SDK verifies', () => {
    const sdk = readFileSync(join(ROOT, 'packages/python/tidings/webhooks.py'), 'utf8');
    for (const line of code('signature-headers').split('\n')) {
      const [name, value] = line.split(': ');
      expect(sdk).toContain(`${name}: ${name === 'Tidings-Webhook-Id' ? '<id>' : value}`);
    }
    expect(signatureHeader('s'.repeat(16), '{}', 1)).toMatch(/^t=1,v1=[0-9a-f]{64}$/);
  });

  it('receiver-python-run starts the example, which accepts a signed batch and refuses an unsigned one', async () => {
    const port = await freePort();
    const rx = await startShell(`bash -euo pipefail -c ${quote(code('receiver-python-run').replace(/\b8000\b/, String(port)))}`, { ports: {}, env: {} }, 'listening on');
    running.push(rx);
    const body = encodeBatch([encodeEvent({ name: 'channel_vacated', channel: 'docs:1' })]);
    const url = `http://127.0.0.1:${port}/webhooks/tidings`;
    const ok = await fetch(url, { method: 'POST', body, headers: { 'Tidings-Signature': signatureHeader(DOC_SECRET, body) } });
    expect(ok.status).toBe(204);
    await until(() => rx.out.stdout.includes('"docs:1"'), 10_000, 'the event printed');
    const bad = await fetch(url, { method: 'POST', body, headers: { 'Tidings-Signature': signatureHeader('not-the-secret-at-all', body) } });
    expect(bad.status).toBe(401);
    await rx.stop();
  });

  it.each(Object.keys(NOT_RUN_HERE))('%s is valid syntax (not run: see NOT_RUN_HERE)', async (name) => {
    const s = snippets.find((x) => x.name === name)!;
    const dir = mkdtempSync(join(tmpdir(), 'tidings-wh-syntax-'));
    dirs.push(dir);
    const file = join(dir, s.lang === 'python' ? `${name}.py` : `${name}.mjs`);
    writeFileSync(file, s.code);
    if (s.lang === 'python') await run('python3', ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read())', file]);
    else await run(process.execPath, ['--check', file]);
  });
});
