/**
 * Every relative link in the project's Markdown (README, docs/, bench/, the
 * packages' and examples' READMEs) points at a file that exists, and a
 * `#fragment` into a Markdown file at one of its headings, slugged as GitHub
 * does. A renamed heading or a moved file otherwise leaves a newcomer at a
 * dead link without anyone noticing.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const SKIP = new Set(['node_modules', 'dist', '.git', 'results']);

function markdownFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...markdownFiles(path));
    else if (name.endsWith('.md')) out.push(path);
  }
  return out;
}

/** Text outside fenced code blocks: a link in an example is not a link. */
const prose = (text: string) => text.replace(/^\s*```[\s\S]*?^\s*```/gm, '');

/** GitHub's heading anchor: lowercase, punctuation dropped, each space a hyphen. */
function slug(heading: string): string {
  const text = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
  return text.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

/** The anchors of a Markdown file's headings, repeats numbered as GitHub numbers them. */
function anchorsOf(file: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of prose(readFileSync(file, 'utf8')).split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

const files = markdownFiles(ROOT);

describe('documentation links', () => {
  it('finds the Markdown files', () => {
    const names = files.map((f) => relative(ROOT, f));
    expect(names).toContain('README.md');
    expect(names).toContain('bench/RESULTS.md');
    expect(names.filter((n) => n.startsWith('docs/')).length).toBeGreaterThan(5);
  });

  it.each(files.map((f) => [relative(ROOT, f), f]))('%s: every relative link and anchor resolves', (_name, file) => {
    const broken: string[] = [];
    for (const [, target] of prose(readFileSync(file, 'utf8')).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target!)) continue;
      const [path, fragment] = target!.split('#') as [string, string | undefined];
      const to = path === '' ? file : resolve(dirname(file), decodeURI(path));
      if (!existsSync(to)) broken.push(`${target}: no such file`);
      else if (fragment && to.endsWith('.md') && !anchorsOf(to).has(fragment)) broken.push(`${target}: no heading with that anchor`);
    }
    expect(broken).toEqual([]);
  });
});
