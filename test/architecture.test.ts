/**
 * The rules of docs/architecture.md, read from the sources: no import loop in
 * any package, the server's layer folders import only downwards, and each
 * package depends only on the packages below it.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { badLayerImports, findLoops, readGraph, specifiers } from './import-graph.js';

const PACKAGES = resolve(import.meta.dirname, '../packages');

/** The server's layers, bottom (0) to top. Equal ranks are siblings: neither imports the other. */
export const SERVER_LAYERS: Record<string, number> = {
  config: 0,
  engine: 1,
  auth: 1,
  wire: 2,
  channels: 2,
  events: 2,
  hub: 3,
  rpc: 3,
  hooks: 3,
  node: 4,
  webhooks: 4,
  session: 5,
  http: 5,
  transport: 6,
  admin: 6,
  pusher: 6, // the Pusher protocol endpoint, beside transport
  '': 7, // gateway.ts (the composition root) and index.ts
  cli: 8,
};

/** Which workspace packages each package may import. */
const PACKAGE_DEPS: Record<string, string[]> = {
  protocol: [],
  streams: [],
  client: ['@tidings/protocol'],
  publisher: ['@tidings/streams', '@tidings/protocol'],
  server: ['@tidings/protocol', '@tidings/streams', '@tidings/client'],
  react: ['@tidings/client', '@tidings/protocol'],
  admin: ['@tidings/client', '@tidings/react', '@tidings/protocol'],
};

const packageNames = readdirSync(PACKAGES).filter((p) => existsSync(join(PACKAGES, p, 'src')));

describe('architecture: imports', () => {
  it.each(packageNames)('packages/%s/src has no import loop', (name) => {
    const { edges } = readGraph(join(PACKAGES, name, 'src'));
    expect(edges.length).toBeGreaterThan(0);
    expect(findLoops(edges)).toEqual([]);
  });

  it("the server's layer folders import only downwards", () => {
    const { edges } = readGraph(join(PACKAGES, 'server', 'src'));
    expect(badLayerImports(edges, SERVER_LAYERS)).toEqual([]);
  });

  it.each(packageNames)('packages/%s imports only the workspace packages below it', (name) => {
    const allowed = PACKAGE_DEPS[name];
    expect(allowed, `add packages/${name} to PACKAGE_DEPS`).toBeDefined();
    const { packages } = readGraph(join(PACKAGES, name, 'src'));
    const wrong = [...packages].flatMap(([file, specs]) =>
      specs.filter((s) => s.startsWith('@tidings/') && !allowed!.includes(s)).map((s) => `${file} imports ${s}`),
    );
    expect(wrong).toEqual([]);
  });

  it('only the CLI of the server uses the client SDK (the gateway library never loads it)', () => {
    const { packages } = readGraph(join(PACKAGES, 'server', 'src'));
    const users = [...packages].filter(([file, specs]) => specs.includes('@tidings/client')).map(([file]) => file);
    expect(users.filter((f) => !f.startsWith('cli/'))).toEqual([]);
  });
});

describe('architecture: the checker itself', () => {
  it('reads static, type-only, re-export and dynamic imports, and ignores comments', () => {
    const src = `import type { A } from './a.js';\nimport { b } from "./b.js";\nexport { c } from './c.js';\n// import { d } from './d.js';\n/* import x from './x.js' */\nconst e = await import('./e.js');\nimport './f.js';`;
    expect(specifiers(src)).toEqual(['./a.js', './b.js', './c.js', './e.js', './f.js']);
  });

  it('finds a loop and an upward import', () => {
    const edges = [
      { from: 'hub/hub.ts', to: 'session/session.ts' },
      { from: 'session/session.ts', to: 'hub/hub.ts' },
      { from: 'engine/a.ts', to: 'engine/b.ts' },
    ];
    expect(findLoops(edges)).toEqual([['hub/hub.ts', 'session/session.ts']]);
    expect(badLayerImports(edges, SERVER_LAYERS)).toEqual([
      'hub/hub.ts -> session/session.ts: hub (layer 3) may not import session (layer 5)',
    ]);
    expect(badLayerImports([{ from: 'http/a.ts', to: 'session/b.ts' }], SERVER_LAYERS)).toHaveLength(1);
    expect(badLayerImports([{ from: 'newfolder/a.ts', to: 'hub/b.ts' }], SERVER_LAYERS)[0]).toMatch(/has no layer/);
  });
});
