/**
 * The client's modules import each other in one direction only: a loop
 * (even through a type-only import) would mean two modules that cannot be
 * read, or split, one without the other. This reads the relative imports of
 * every file in src/ and fails with the loop it finds.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '../src');

/** `import … from './x.js'`, `export … from './x.js'`, `import './x.js'` and `import('./x.js')`. */
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*['"](\.[^'"]+)['"]|(?:^|\n)\s*import\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** File → the src files it imports (by relative path; `.js` specifiers name `.ts` sources). */
function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const deps: string[] = [];
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      deps.push(normalize(join(dirname(file), spec.replace(/\.js$/, '.ts'))));
    }
    graph.set(file, deps);
  }
  return graph;
}

/** The first import loop found, as a list of files that starts and ends with the same one; null when there is none. */
function findLoop(graph: Map<string, string[]>): string[] | null {
  const done = new Set<string>();
  const path: string[] = [];
  const onPath = new Set<string>();
  const visit = (file: string): string[] | null => {
    if (onPath.has(file)) return [...path.slice(path.indexOf(file)), file];
    if (done.has(file) || !graph.has(file)) return null;
    path.push(file);
    onPath.add(file);
    for (const dep of graph.get(file)!) {
      const loop = visit(dep);
      if (loop) return loop;
    }
    path.pop();
    onPath.delete(file);
    done.add(file);
    return null;
  };
  for (const file of graph.keys()) {
    const loop = visit(file);
    if (loop) return loop;
  }
  return null;
}

describe('client module imports', () => {
  const files = sourceFiles(SRC);
  const graph = importGraph(files);

  it('reads the imports of every source file', () => {
    // Guards the check itself: the entry must be seen importing the Client and the Client its parts.
    const client = join(SRC, 'client.ts');
    expect(graph.get(join(SRC, 'index.ts'))).toContain(client);
    expect(graph.get(client)).toEqual(expect.arrayContaining([join(SRC, 'lifecycle.ts'), join(SRC, 'requests.ts')]));
    for (const deps of graph.values()) for (const dep of deps) expect(files, `${dep} exists`).toContain(dep);
  });

  it('has no import loop in packages/client/src', () => {
    const loop = findLoop(graph);
    expect(loop && loop.map((f) => relative(SRC, f)).join(' -> ')).toBeNull();
  });

  it('finds a loop when there is one', () => {
    const a = join(SRC, 'a.ts');
    const b = join(SRC, 'b.ts');
    const c = join(SRC, 'c.ts');
    expect(findLoop(new Map([[a, [b]], [b, [c]], [c, [a]]]))).toEqual([a, b, c, a]);
    expect(findLoop(new Map([[a, [b, c]], [b, [c]], [c, []]]))).toBeNull();
  });
});
