/** The targets, checked against one run's results. */

const pct = (a, b) => (b ? (a ?? 0) / b : null);
const times = (r, digits) => (r === null ? 'n/a' : `${r.toFixed(digits)}×`);

export function checkTargets(results) {
  const rows = [];
  const add = (target, measured, ok) => rows.push({ target, measured, verdict: ok === null ? 'n/a' : ok ? 'met' : 'NOT MET' });
  const f = results.fanout?.servers;
  if (f?.tidings && f.socketio) {
    const r = pct(f.tidings.maxSustained, f.socketio.maxSustained);
    add('fan-out ≥ 10× Socket.IO', `${f.tidings.maxSustained?.toLocaleString('en-US')} vs ${f.socketio.maxSustained?.toLocaleString('en-US')}/s (${times(r, 1)})`, r === null ? null : r >= 10);
  }
  if (f?.tidings && f['ws-coalesce']) {
    const r = pct(f.tidings.maxSustained, f['ws-coalesce'].maxSustained);
    add('fan-out ≥ ½ coalescing ws', `${f.tidings.maxSustained?.toLocaleString('en-US')} vs ${f['ws-coalesce'].maxSustained?.toLocaleString('en-US')}/s (${times(r, 2)})`, r === null ? null : r >= 0.5);
  }
  const t50 = f?.tidings?.at50k;
  const s50 = f?.socketio?.at50k;
  if (t50 && s50) add('p50/p99 at 50k/s ≤ Socket.IO', `${t50.p50}/${t50.p99} vs ${s50.p50}/${s50.p99} ms`, t50.p50 <= s50.p50 && t50.p99 <= s50.p99);
  else if (f?.tidings && s50) add('p50/p99 at 50k/s ≤ Socket.IO', 'Tidings failed before 50k/s', false);
  const m = results.idle?.servers;
  if (m?.tidings?.rssPerConn && m.socketio?.rssPerConn) {
    add('RSS/idle conn ≤ ½ Socket.IO', `${m.tidings.rssPerConn} vs ${m.socketio.rssPerConn} B`, m.tidings.rssPerConn <= m.socketio.rssPerConn / 2);
  }
  const so = results.scaleout;
  if (so?.ratio != null) {
    const [one, two] = [so.servers['tidings×1'], so.servers['tidings×2']];
    const how = so.capped ? `each node capped at ${so.params.nodeCores} core` : 'uncapped: nodes share the same cores';
    const capacity = `capacity ${two.capacity.perSecond} vs ${one.capacity.perSecond}/s (${times(so.ratio, 2)})`;
    const ladder = `p99 ladder ${two.maxSustained} vs ${one.maxSustained}/s (${times(so.ladderRatio, 2)})`;
    add('2 Redis nodes ≥ 1.6× one node (many channels)', `${capacity}; ${ladder}; ${how}`, so.capped ? so.ratio >= 1.6 : null);
  }
  const storm = results.recovery?.servers?.tidings?.storms?.find((s) => s.jitterMs === 0);
  if (storm) add('5,000 clients recover 100 each within 5 s', `${storm.recovered}/${storm.clients} in ${storm.allRecoveredMs} ms`, storm.recovered === storm.clients && storm.allRecoveredMs <= 5000);
  return rows;
}

export const columns = [
  ['target', 'target'],
  ['measured', 'measured (Tidings vs peer)'],
  ['verdict', ''],
];
