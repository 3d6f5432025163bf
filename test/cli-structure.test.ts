/**
 * Import rules around the CLI, read from the sources: no subcommand imports
 * cli/main.ts (the loop issue 9 removed), and the gateway library never
 * imports @tidings/client. Only the subscribe command may, and only lazily
 * (a dynamic import), so `tidings serve` never loads the client SDK.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

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
