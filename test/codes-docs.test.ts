/**
 * docs/protocol.md and packages/protocol/src/codes.ts agree on every code:
 * each error and close code is in the docs' table and each row of the tables
 * is a code, with the same retry and reconnect advice the code gives.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CloseCode, ErrorCode, WsCloseCode, isTemporaryError, shouldReconnect } from '@tidings/protocol';

const doc = readFileSync(resolve(import.meta.dirname, '../docs/protocol.md'), 'utf8');

/** The rows `| code | name | advice | … |` of the table under `heading`. */
function table(heading: string): Array<{ code: number; advice: string }> {
  const start = doc.indexOf(`\n## ${heading}`);
  expect(start, heading).toBeGreaterThan(-1);
  const next = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start + 1, next === -1 ? undefined : next);
  return [...section.matchAll(/^\| (\d{3,4}) \| [^|]+ \| ([^|]+) \|/gm)].map((m) => ({ code: Number(m[1]), advice: m[2]!.trim() }));
}

describe('docs/protocol.md and codes.ts', () => {
  it('list the same error codes, with the same retry advice', () => {
    const rows = table('Error codes');
    expect(rows.map((r) => r.code).sort()).toEqual(Object.values(ErrorCode).sort());
    for (const r of rows) expect(r.advice.startsWith('yes'), `${r.code}: ${r.advice}`).toBe(isTemporaryError(r.code));
  });

  it('list the same close codes, with the same reconnect advice', () => {
    const rows = table('Close codes');
    const wsCodes = new Set<number>(Object.values(WsCloseCode));
    expect(rows.map((r) => r.code).filter((c) => !wsCodes.has(c)).sort()).toEqual(Object.values(CloseCode).sort());
    for (const r of rows) expect(r.advice.replace(/\*/g, '') === 'yes', `${r.code}: ${r.advice}`).toBe(shouldReconnect(r.code));
  });
});
