/**
 * Scenario 3, idle memory: open connections (each authenticated and on its own
 * channel, the job pattern) in levels, let them sit, force GC in the server
 * and read its RSS. Per connection = (RSS at level − RSS before any
 * connection) / level. Kernel socket memory (~4 KB each) is not in RSS.
 *
 * With --heap, the server also writes heap snapshots (before any connection
 * and at the last level) and the difference per connection, by constructor,
 * goes to results/heap-<server>.txt: what a connection is made of.
 *
 * Levels are capped by the open-file limit (each connection is one fd in the
 * server and one in the generator); a capped level is reported as such.
 */
import { closeAll, openPool } from '../generator/pool.mjs';
import { DeliverySink } from '../generator/sink.mjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatHeapDiff, heapDiff } from '../report/heap.mjs';
import { sleep } from '../lib/sys.mjs';

export const title = 'Idle memory per connection';

/** Requested levels → reachable levels (deduplicated), with the cap applied. */
export function reachableLevels(levels, fdLimit, spare = 400) {
  const cap = Math.max(100, fdLimit - spare);
  return [...new Set(levels.map((l) => Math.min(l, cap)))].sort((a, b) => a - b).map((n) => ({ n, capped: !levels.includes(n) }));
}

/**
 * The median of three probes (each after two forced GCs), half a second
 * apart: one probe moves by ±0.5 KB per connection at 20 k connections, as
 * V8 resizes its young generation. With --heap only one (snapshots are slow).
 */
async function steadyProbe(server, heap) {
  if (heap) return server.probe(120_000);
  const probes = [];
  for (let i = 0; i < 3; i++) {
    if (i > 0) await sleep(500);
    probes.push(await server.probe(120_000));
  }
  return probes.sort((a, b) => a.rss - b.rss)[1];
}

export async function runOne(server, opts) {
  const { levels, tokens, settleMs } = opts;
  const sink = new DeliverySink();
  await sleep(500);
  const base = await server.probe(120_000);
  const rows = [];
  let conns = [];
  let last;
  try {
    for (const { n, capped } of levels) {
      const pool = await openPool({
        targets: [server.target],
        protocol: server.protocol,
        sink,
        count: n - conns.length,
        tokens,
        channelOf: (i) => `idle:${conns.length + i}`,
        timeoutMs: 120_000,
      });
      conns = conns.concat(pool.conns);
      await sleep(settleMs);
      const m = (last = await steadyProbe(server, opts.heap));
      const open = conns.filter((c) => c.state === 'ready').length;
      rows.push({
        connections: open,
        requested: n,
        capped,
        rssMb: m.rss / 2 ** 20,
        rssPerConn: Math.round((m.rss - base.rss) / open),
        heapPerConn: Math.round((m.heapUsed - base.heapUsed) / open),
        heapTotalPerConn: Math.round((m.heapTotal - base.heapTotal) / open),
        externalPerConn: Math.round((m.external - base.external) / open),
        failed: pool.failed,
      });
      const r = rows.at(-1);
      opts.log(`  ${server.kind} ${open} idle: ${r.rssPerConn} B RSS/conn, heap ${r.heapPerConn} B used / ${r.heapTotalPerConn} B committed, ${r.externalPerConn} B external`);
    }
  } finally {
    await closeAll(conns);
  }
  const result = { baseRssMb: base.rss / 2 ** 20, levels: rows, rssPerConn: rows.at(-1)?.rssPerConn ?? null };
  if (base.snapshot && last?.snapshot) {
    const diff = heapDiff(base.snapshot, last.snapshot, rows.at(-1).connections);
    result.heap = diff;
    writeFileSync(join(opts.out, `heap-${server.kind}.txt`), `${formatHeapDiff(diff)}\n`);
  }
  return result;
}

export const columns = [
  ['server', 'server'],
  ['connections', 'connections'],
  ['rssMb', 'RSS MiB'],
  ['rssPerConn', 'RSS B/conn'],
  ['heapPerConn', 'heap B/conn'],
  ['failed', 'failed'],
  ['note', ''],
];

export function rowsOf(result) {
  return Object.entries(result.servers).flatMap(([server, r]) =>
    r.error ? [{ server, note: `error: ${r.error}` }] : r.levels.map((l) => ({ server, ...l, note: l.capped ? `capped (asked ${result.params.requested.join(', ')})` : '' })),
  );
}
