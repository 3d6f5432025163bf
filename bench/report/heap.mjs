/**
 * What a connection costs on the heap, by constructor: the difference between
 * two V8 heap snapshots (before any connection, and with N), divided by N.
 *
 *   node bench/report/heap.mjs BEFORE.heapsnapshot AFTER.heapsnapshot N
 */
import { readFileSync } from 'node:fs';

/** Self size and count per "type:name" (name is the constructor for objects). */
export function heapByConstructor(file) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const stride = fields.length;
  const out = new Map();
  const { nodes, strings } = snap;
  for (let i = 0; i < nodes.length; i += stride) {
    const type = types[nodes[i + iType]];
    const name = type === 'object' || type === 'closure' || type === 'native' ? strings[nodes[i + iName]] : `(${type})`;
    const key = type === 'closure' ? `closure ${name || '(anonymous)'}` : name;
    const e = out.get(key) ?? { bytes: 0, count: 0 };
    e.bytes += nodes[i + iSize];
    e.count++;
    out.set(key, e);
  }
  return out;
}

/** Per-connection growth, largest first. */
export function heapDiff(beforeFile, afterFile, connections, top = 25) {
  const a = heapByConstructor(beforeFile);
  const b = heapByConstructor(afterFile);
  const rows = [];
  for (const [key, e] of b) {
    const base = a.get(key) ?? { bytes: 0, count: 0 };
    const bytes = (e.bytes - base.bytes) / connections;
    const count = (e.count - base.count) / connections;
    if (bytes > 8) rows.push({ what: key, bytesPerConn: Math.round(bytes), perConn: Math.round(count * 100) / 100 });
  }
  rows.sort((x, y) => y.bytesPerConn - x.bytesPerConn);
  const total = rows.reduce((s, r) => s + r.bytesPerConn, 0);
  return { totalPerConn: total, rows: rows.slice(0, top) };
}

export function formatHeapDiff(d) {
  return [`heap growth per connection: ${d.totalPerConn} B (self sizes)`, ...d.rows.map((r) => `  ${String(r.bytesPerConn).padStart(6)} B  ${String(r.perConn).padStart(6)} ×  ${r.what}`)].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [before, after, n] = process.argv.slice(2);
  console.log(formatHeapDiff(heapDiff(before, after, Number(n))));
}
