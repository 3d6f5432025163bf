/**
 * Fenced snippets of the user docs, for the tests that run them. Every fence
 * in a checked file must sit right under a `<!-- snippet: NAME -->` marker,
 * so a new snippet cannot slip in untested; the test for the file says how
 * each NAME is run. Shell snippets run in bash at the repository root, with
 * node_modules/.bin on PATH (so `npx tidings` is the local build), no TIDINGS_*
 * variables but those the test sets, and the documented ports rewritten to
 * free ones (7070, 7071 → the test's gateways, 6379 → the test's Redis;
 * a test may also set TIDINGS_PORT for a gateway started on the default port).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { until } from './helpers.js';
import { type Ran, runProcess } from './run-process.js';

export const ROOT = resolve(import.meta.dirname, '..');

export interface Snippet {
  file: string;
  name: string;
  lang: string;
  code: string;
}

/** Every fenced block of `file`; throws when one has no marker, or a name repeats. */
export function snippetsOf(file: string): Snippet[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const lines = text.split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('```')) continue;
    const open = /^```(\w*)$/.exec(lines[i]!);
    if (!open) throw new Error(`${file}:${i + 1}: text after a fence: ${lines[i]}`);
    const marker = /^<!-- snippet: ([\w-]+) -->$/.exec(lines[i - 1] ?? '');
    if (!marker) throw new Error(`${file}:${i + 1}: a fenced block without a <!-- snippet: NAME --> marker on the line above`);
    const end = lines.indexOf('```', i + 1);
    if (end < 0) throw new Error(`${file}:${i + 1}: unclosed fence`);
    out.push({ file, name: marker[1]!, lang: open[1]!, code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  const names = out.map((s) => s.name);
  const twice = names.find((n, k) => names.indexOf(n) !== k);
  if (twice) throw new Error(`${file}: snippet name ${twice} is used twice`);
  return out;
}

export interface ShellEnv {
  ports: Record<string, number>;
  env: Record<string, string>;
}

/** The snippet's text with the documented ports replaced by the test's. */
export function rewrite(code: string, ports: Record<string, number>): string {
  return code.replace(/\b(7070|7071|6379)\b/g, (p) => String(ports[p] ?? p));
}

function shellEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TIDINGS_')) delete env[k];
  env.PATH = `${join(ROOT, 'node_modules/.bin')}:${env.PATH}`;
  env.npm_config_yes = 'false';
  return { ...env, ...extra };
}

export type { Ran };

/** Run shell text to completion (bounded). */
export function runShell(code: string, s: ShellEnv, timeoutMs = 30_000): Promise<Ran> {
  return runProcess('bash', ['-euo', 'pipefail', '-c', rewrite(code, s.ports)], { cwd: ROOT, env: shellEnv(s.env), timeout: timeoutMs });
}

export interface Background {
  child: ChildProcess;
  out: { stdout: string; stderr: string };
  stop(): Promise<void>;
}

/** Start one shell line in its own process group, and wait for `ready` on its output. */
export async function startShell(line: string, s: ShellEnv, ready: string, timeoutMs = 20_000): Promise<Background> {
  const child = spawn('bash', ['-c', `exec ${rewrite(line, s.ports)}`], { cwd: ROOT, env: shellEnv(s.env), detached: true });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d) => (out.stdout += d));
  child.stderr!.on('data', (d) => (out.stderr += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {}
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
    }
  };
  try {
    await until(() => (out.stdout + out.stderr).includes(ready) || child.exitCode !== null, timeoutMs, `"${line}" to print "${ready}"`);
  } catch (err) {
    await stop();
    throw err;
  }
  if (child.exitCode !== null) throw new Error(`"${line}" exited ${child.exitCode}: ${out.stderr}`);
  return { child, out, stop };
}

/** Type-check TypeScript snippets as ES modules beside a declarations prelude (what the prose around them defines). */
export function typecheck(snippets: Array<{ name: string; code: string }>, prelude: string): Promise<Ran> {
  // Inside the repository, so `@tidings/client` resolves to the workspace package.
  const dir = join(ROOT, 'node_modules/.cache/tidings-snippets');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'prelude.d.ts'), prelude);
  const files = snippets.map((s) => {
    const f = join(dir, `${s.name}.mts`);
    writeFileSync(f, `${s.code}\nexport {};\n`);
    return f;
  });
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const args = [tsc, '--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--lib', 'es2022,dom', '--types', 'node', join(dir, 'prelude.d.ts'), ...files];
  return runProcess(process.execPath, args, { cwd: ROOT, timeout: 60_000 });
}

/** Write a snippet to a file inside the repository (so workspace packages resolve), ports rewritten; `.mjs` runs as an ES module. */
export function moduleFile(name: string, code: string, ports: Record<string, number>, ext = 'mjs'): string {
  const dir = join(ROOT, 'node_modules/.cache/tidings-snippets');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.${ext}`);
  writeFileSync(file, rewrite(code, ports));
  return file;
}
