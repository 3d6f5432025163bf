/**
 * The duration field for config parts in their own files (they cannot import
 * schema.ts, which imports them). Same rules as schema.ts: seconds (number)
 * or strings like "500ms", "10s", "10m", "1h", stored as milliseconds.
 */
import { z } from 'zod';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function toMs(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v * 1000 : undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(v.trim());
  return m ? Number(m[1]) * (UNITS[m[2]!] ?? 1) : undefined;
}

export const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = toMs(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected seconds or a duration like "10s", "5m", "1h"' });
    return z.NEVER;
  }
  return ms;
});
