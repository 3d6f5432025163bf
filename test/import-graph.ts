/**
 * The import graph of the packages' sources, read from the files themselves
 * (static imports, re-exports and dynamic `import()`, type-only ones
 * included: a loop through types is still a loop for a reader), and the two
 * rules docs/architecture.md states: no loop, and the server's layer folders
 * import only folders below them.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export interface ImportEdge {
  from: string;
  to: string;
}

const SPECIFIER = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;(])import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

/** Every module specifier in `source`, comments removed first. */
export function specifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const out: string[] = [];
  for (const m of code.matchAll(SPECIFIER)) out.push((m[1] ?? m[2] ?? m[3])!);
  return out;
}

export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Relative imports between the files under `root` (paths relative to it), and the bare package names each file imports. */
export function readGraph(root: string): { edges: ImportEdge[]; packages: Map<string, string[]> } {
  const files = sourceFiles(root);
  const known = new Set(files.map((f) => relative(root, f)));
  const edges: ImportEdge[] = [];
  const packages = new Map<string, string[]>();
  for (const file of files) {
    const from = relative(root, file);
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) {
        packages.set(from, [...(packages.get(from) ?? []), spec]);
        continue;
      }
      const target = relative(root, resolve(dirname(file), spec)).replace(/\.js$/, '');
      const to = [`${target}.ts`, `${target}.tsx`, join(target, 'index.ts')].find((c) => known.has(c));
      if (to) edges.push({ from, to });
    }
  }
  return { edges, packages };
}

/** Every import loop, each as the files on it (strongly connected components of more than one file, or a self-import). */
export function findLoops(edges: ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const loops: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (next.get(v) ?? []).includes(v)) loops.push(component.sort());
  };
  for (const v of new Set(edges.flatMap((e) => [e.from, e.to]))) if (!index.has(v)) visit(v);
  return loops;
}

/** The first folder of a path relative to the package's src/, or '' for a file at its top. */
export function layerOf(path: string): string {
  const slash = path.indexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/**
 * Imports between layer folders that do not point strictly down `ranks`
 * (a higher rank may import a lower one; equal ranks are siblings and may
 * not import each other). A folder missing from `ranks` is reported too, so a
 * new folder must be placed on purpose.
 */
export function badLayerImports(edges: ImportEdge[], ranks: Record<string, number>): string[] {
  const bad: string[] = [];
  for (const { from, to } of edges) {
    const a = layerOf(from);
    const b = layerOf(to);
    if (a === b) continue;
    const ra = ranks[a];
    const rb = ranks[b];
    if (ra === undefined || rb === undefined) bad.push(`${from} -> ${to}: folder ${ra === undefined ? a || '(top)' : b || '(top)'} has no layer`);
    else if (rb >= ra) bad.push(`${from} -> ${to}: ${a || '(top)'} (layer ${ra}) may not import ${b || '(top)'} (layer ${rb})`);
  }
  return bad;
}
