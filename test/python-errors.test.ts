/**
 * examples/python/publish.py when something is missing or wrong: one line that
 * names what, and the CLI's exit codes. python3 must exist (.ci/run installs
 * it); a missing one fails these tests.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, type TestGateway, freePort, startTestGateway } from './helpers.js';
import { type Ran, runProcess } from './run-process.js';

const SCRIPT = resolve(import.meta.dirname, '../examples/python/publish.py');
let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t.close());

function py(args: string[], env: Record<string, string>): Promise<Ran> {
  return runProcess('python3', ['-I', SCRIPT, ...args], { env: { PATH: process.env.PATH!, ...env } });
}

describe('examples/python/publish.py errors', () => {
  it('without TIDINGS_API_KEY: one line that says how to get the dev key, exit 2', async () => {
    const r = await py(['jobs:1', '{}'], { TIDINGS_URL: t.httpUrl });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('TIDINGS_API_KEY is not set');
    expect(r.stderr).toContain('npx tidings dev-secrets api-key');
  });

  it('a wrong key: the status and the gateway\'s error, exit 1', async () => {
    const r = await py(['jobs:1', '{}'], { TIDINGS_URL: t.httpUrl, TIDINGS_API_KEY: 'wrong-key-0123456789' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^publish\.py: .*answered HTTP 401 /);
  });

  it('nothing listening: the URL and the reason, exit 3', async () => {
    const dead = await freePort();
    const r = await py(['jobs:1', '{}'], { TIDINGS_PORT: String(dead), TIDINGS_API_KEY: API_KEY });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`cannot reach the gateway at http://127.0.0.1:${dead}`);
    expect(r.stderr).toContain('Connection refused');
  });

  it('data that is not JSON: exit 2 naming it', async () => {
    const r = await py(['jobs:1', '{nope'], { TIDINGS_URL: t.httpUrl, TIDINGS_API_KEY: API_KEY });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not valid JSON');
  });
});
