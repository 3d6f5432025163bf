/**
 * Summary of a V8 .cpuprofile (node --cpu-prof): the functions with the most
 * self time, and total (inclusive) time of the gateway's own functions, so a
 * profile can be read without DevTools.
 *
 *   node bench/report/profile.mjs FILE.cpuprofile [--top 30]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const shortUrl = (url) => url.replace(/^file:\/\/.*?\/(packages|node_modules)\//, '$1/').replace(/^node:/, 'node:');
const keyOf = (cf) => `${cf.functionName || '(anonymous)'} ${shortUrl(cf.url)}:${cf.lineNumber + 1}`;

export function summarise(profile, top = 30) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const dt = new Map();
  for (let i = 0; i < profile.samples.length; i++) dt.set(profile.samples[i], (dt.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const totalUs = [...dt.values()].reduce((a, b) => a + b, 0);
  const self = new Map();
  for (const [id, us] of dt) {
    const k = keyOf(byId.get(id).callFrame);
    self.set(k, (self.get(k) ?? 0) + us);
  }
  // Inclusive time: walk the tree, counting each function once per path.
  const incl = new Map();
  const walk = (node, onPath) => {
    let sum = dt.get(node.id) ?? 0;
    const k = keyOf(node.callFrame);
    const first = !onPath.has(k);
    if (first) onPath.add(k);
    for (const c of node.children ?? []) sum += walk(byId.get(c), onPath);
    if (first) {
      onPath.delete(k);
      incl.set(k, (incl.get(k) ?? 0) + sum);
    }
    return sum;
  };
  walk(profile.nodes[0], new Set());
  const rank = (m, filter = () => true) =>
    [...m].filter(([k]) => filter(k)).sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => ({ fn: k, ms: Math.round(us / 1000), pct: Math.round((us / totalUs) * 1000) / 10 }));
  return {
    totalMs: Math.round(totalUs / 1000),
    self: rank(self),
    gatewayInclusive: rank(incl, (k) => k.includes('packages/server') || k.includes('packages/protocol')),
  };
}

export function formatSummary(s) {
  const lines = [`total ${s.totalMs} ms sampled`, '', 'self time:'];
  for (const r of s.self) lines.push(`  ${String(r.pct).padStart(5)}%  ${String(r.ms).padStart(7)} ms  ${r.fn}`);
  lines.push('', 'inclusive time, gateway code:');
  for (const r of s.gatewayInclusive) lines.push(`  ${String(r.pct).padStart(5)}%  ${String(r.ms).padStart(7)} ms  ${r.fn}`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
  for (const file of positionals) console.log(`== ${file}\n${formatSummary(summarise(JSON.parse(readFileSync(file, 'utf8')), Number(values.top)))}\n`);
}
