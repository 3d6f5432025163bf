/**
 * `tidings check-config FILE` as an operator runs it, and the JSON Schema
 * published in docs/ (it must equal what the command generates today).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema } from '../packages/server/dist/config/schema.js';

const run = promisify(execFile);
const BIN = new URL('../packages/server/bin/tidings.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tidings-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function checkConfig(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, 'check-config', ...args], { cwd: dir, timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('tidings check-config', () => {
  it('prints ok for a valid file', async () => {
    const path = file('ok.json', JSON.stringify({ port: 8080, limits: { maxConnectionsPerAddress: 50, trustedProxies: ['10.0.0.0/8'], bodyIdleTimeout: '5s' }, namespaces: { chat: { publish: 'subscribers' } } }));
    expect(await checkConfig(path)).toEqual({ code: 0, stdout: 'ok\n', stderr: '' });
  });

  it('prints every problem with its path and exits 1', async () => {
    const path = file(
      'bad.json',
      JSON.stringify({
        port: 'eighty',
        token: { hmacSecret: 'short' },
        client: { pingInterval: '5 minutes' },
        limits: { maxConnections: -1, trustedProxies: ['10.0.0.0/99'], headersTimeout: '1m', requestTimeout: '30s', surprise: true },
        namespaces: { 'bad name!': {} },
      }),
    );
    const { code, stdout } = await checkConfig(path);
    expect(code).toBe(1);
    const lines = stdout.trim().split('\n');
    const paths = lines.map((l) => l.slice(0, l.indexOf(': ')));
    expect(paths.sort()).toEqual(['client.pingInterval', 'limits.headersTimeout', 'limits.maxConnections', 'limits.surprise', 'limits.trustedProxies.0', 'namespaces.bad name!', 'port', 'token.hmacSecret'].sort());
    expect(lines).toContain('limits.surprise: unknown field');
  });

  it('names a problem between two fields by the first one', async () => {
    const path = file('order.json', JSON.stringify({ limits: { headersTimeout: '1m', requestTimeout: '30s' } }));
    const { code, stdout } = await checkConfig(path);
    expect(code).toBe(1);
    expect(stdout).toBe('limits.headersTimeout: headersTimeout must not be longer than requestTimeout\n');
  });

  it('says so when the file is not JSON or not there', async () => {
    const broken = await checkConfig(file('broken.json', '{"port": 80,'));
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/^\(file\): not valid JSON: /);
    const missing = await checkConfig(join(dir, 'nope.json'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*nope\.json: ENOENT/);
    expect((await checkConfig()).code).toBe(2);
  });
});

describe('docs/config.schema.json', () => {
  it('is what `tidings check-config --json-schema` generates from the zod schema', async () => {
    const { code, stdout } = await checkConfig('--json-schema');
    expect(code).toBe(0);
    const committed = readFileSync(new URL('../docs/config.schema.json', import.meta.url), 'utf8');
    // Regenerate with: npx tidings check-config --json-schema > docs/config.schema.json
    expect(committed).toBe(stdout);
  });

  it('describes every top-level section, closed to unknown fields, with no section default in milliseconds', () => {
    const schema = JSON.parse(readFileSync(new URL('../docs/config.schema.json', import.meta.url), 'utf8'));
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(configSchema.shape).sort());
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.limits.properties.bodyIdleTimeout.type).toEqual(['number', 'string']);
    expect(schema.properties.client.default).toBeUndefined();
    expect(schema.properties.port.default).toBe(7070);
  });
});
