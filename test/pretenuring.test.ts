/**
 * `tidings serve` turns V8's allocation-site pretenuring off
 * (cli/pretenuring.ts) unless node was started with its own choice. What
 * it prevents (young collections slowed tenfold once V8 pretenured the
 * per-request objects) is measured in bench/RESULTS.md; here, that node's
 * own flag wins, and that the setting is accepted by this node's V8.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { turnOffPretenuring } from '../packages/server/src/cli/pretenuring.js';

const DIST = new URL('../packages/server/dist/cli/pretenuring.js', import.meta.url).href;

describe('pretenuring for tidings serve', () => {
  it('is left to node when its flags choose', () => {
    expect(turnOffPretenuring(['--allocation-site-pretenuring'])).toBe(false);
    expect(turnOffPretenuring(['--no-allocation-site-pretenuring'])).toBe(false);
    expect(turnOffPretenuring(['--no-allocation_site_pretenuring'])).toBe(false);
  });

  it('is turned off otherwise, without a warning from V8', () => {
    const script = `const { turnOffPretenuring } = await import(${JSON.stringify(DIST)}); console.log(turnOffPretenuring(process.execArgv));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out.trim()).toBe('true');
  });
});
