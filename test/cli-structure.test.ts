/**
 * Import rules around the CLI, read from the sources: no subcommand imports
 * cli/main.ts (the loop issue 9 removed), and the gateway library never
 * imports @tidings/client. Only the subscribe command may, and only lazily
 * (a dynamic import), so `tidings serve` never loads the client SDK; and,
 * with a module-resolution hook recording what a real process loads, that
 * `tidings serve` indeed does not (while `tidings subscribe` does).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort, until } from './helpers.js';

const SRC = resolve(import.meta.dirname, '../packages/server/src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every module specifier in a file, marked static (import/export … from) or dynamic (import()). Type-only imports are erased and skipped. */
function imports(file: string): Array<{ spec: string; dynamic: boolean }> {
  const text = readFileSync(file, 'utf8');
  const found: Array<{ spec: string; dynamic: boolean }> = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]/gm)) if (!m[2]) found.push({ spec: m[3]!, dynamic: false });
  for (const m of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) found.push({ spec: m[1]!, dynamic: false });
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push({ spec: m[1]!, dynamic: true });
  return found;
}

const files = sources(SRC);

describe('CLI import rules', () => {
  it('finds the sources it checks', () => {
    expect(files.length).toBeGreaterThan(20);
    expect(files.some((f) => f.endsWith('cli/subscribe.ts'))).toBe(true);
  });

  it('no file imports cli/main.ts', () => {
    const offenders = files.filter((f) => imports(f).some((i) => i.spec.endsWith('/main.js') || i.spec === './main.js'));
    expect(offenders.map((f) => relative(SRC, f))).toEqual([]);
  });

  it('only cli/subscribe.ts imports @tidings/client, and only with a dynamic import', () => {
    const users = files.flatMap((f) => imports(f).filter((i) => i.spec.startsWith('@tidings/client')).map((i) => ({ file: relative(SRC, f), dynamic: i.dynamic })));
    expect(users).toEqual([{ file: 'cli/subscribe.ts', dynamic: true }]);
  });
});

const BIN = resolve(import.meta.dirname, '../packages/server/bin/tidings.js');

/** Run the CLI with a resolve hook that appends every module URL of the client package to a file; returns those URLs. */
async function clientModulesLoadedBy(args: string[], ready: string): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tidings-loads-'));
  const log = join(dir, 'loaded.txt');
  writeFileSync(log, '');
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (r.url.includes('/packages/client/') || r.url.includes('/@tidings/client/')) appendFileSync(${JSON.stringify(log)}, r.url + '\\n');
  return r;
}
`,
  );
  writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);
  const port = await freePort();
  const env = { ...process.env, TIDINGS_PORT: String(port), TIDINGS_DATA_DIR: dir, TIDINGS_API_KEY: 'load-test-api-key-0123456789', TIDINGS_TOKEN_SECRET: 'load-test-token-secret-0123456789-abcdefgh' };
  const child = spawn(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, BIN, ...args], { env, cwd: dir });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  try {
    await until(() => out.includes(ready) || child.exitCode !== null, 15_000, `${args.join(' ')}: ${out}`);
    return readFileSync(log, 'utf8').split('\n').filter(Boolean);
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('what a running command loads', () => {
  it('`tidings serve` does not load @tidings/client; `tidings subscribe` does (so the check can see it)', async () => {
    expect(existsSync(BIN)).toBe(true);
    expect(await clientModulesLoadedBy(['serve'], 'tidings listening')).toEqual([]);
    // Nothing listens for the subscriber: it loads the SDK and starts connecting.
    const loaded = await clientModulesLoadedBy(['subscribe', 'news', '--url', 'ws://127.0.0.1:9/ws'], '[connecting]');
    expect(loaded.length).toBeGreaterThan(0);
  }, 40_000);
});
