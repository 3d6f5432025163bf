/** The issue's targets, checked against one run's results. */

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

/** A scenario's figure for one server: a number, or why there is none. */
function figure(results, scenario, server, key) {
  const r = results[scenario]?.servers?.[server];
  if (!r) return { missing: `${scenario}/${server} not measured` };
  if (r.error || typeof r[key] !== 'number') return { missing: `${scenario}/${server} failed: ${r.error ?? `no ${key}`}` };
  return { value: r[key] };
}

/** "a ≥ factor × b", computed from the run; "not measured" when either side did not run. */
function ratioRow(target, a, b, factor, unit) {
  if (a.missing || b.missing) return { target, measured: [a.missing, b.missing].filter(Boolean).join('; '), verdict: 'not measured' };
  const r = b.value ? a.value / b.value : null;
  const n = (v) => v.toLocaleString('en-US');
  return { target, measured: `${n(a.value)} vs ${n(b.value)}${unit} (${times(r, 2)})`, verdict: r === null ? 'n/a' : r >= factor ? 'met' : 'NOT MET' };
}

/**
 * The batch row with the host's write floor beside it (scenarios/write-floor.mjs):
 * the most one-subscriber deliveries a core can write with nothing else done,
 * and that ceiling as a multiple of ws's figure.
 */
function withFloor(row, ceiling, ws) {
  if (ceiling.missing) return row;
  const ratio = ws.value ? ` (${times(ceiling.value / ws.value, 2)} ws)` : '';
  return { ...row, measured: `${row.measured}; this host's write floor allows at most ${ceiling.value.toLocaleString('en-US')} pub/s on one core${ratio}` };
}

/** Issue 15: batch publishing, the many-channels and connect figures against ws, and the Redis engine against memory. */
export function checkTargets15(results) {
  const at = (scenario, server, key = 'maxSustained') => figure(results, scenario, server, key);
  const perCore = at('fanoutredis', 'tidings-redis', 'perRedisCore');
  const perCoreChannels = at('channelsredis', 'tidings-redis', 'perRedisCore');
  const note = (row, f) => (f.value ? { ...row, measured: `${row.measured}; ${f.value.toLocaleString('en-US')} pub/s per Redis core` } : row);
  return [
    withFloor(ratioRow('many channels, batch ≥ 5× ws single publish', at('channelsbatch', 'tidings'), at('channels', 'ws'), 5, ' pub/s'), at('writefloor', 'host', 'ceiling'), at('channels', 'ws')),
    ratioRow('many channels, single publish ≥ ws', at('channels', 'tidings'), at('channels', 'ws'), 1, ' pub/s'),
    ratioRow('connect storm ≥ 0.9× ws', at('connect', 'tidings', 'connectsPerSec'), at('connect', 'ws', 'connectsPerSec'), 0.9, ' connects/s'),
    note(ratioRow('Redis fan-out ≥ ½ memory fan-out', at('fanoutredis', 'tidings-redis'), at('fanout', 'tidings'), 0.5, ' deliveries/s'), perCore),
    note(ratioRow('Redis many channels ≥ ½ memory many channels', at('channelsredis', 'tidings-redis'), at('channels', 'tidings'), 0.5, ' pub/s'), perCoreChannels),
  ];
}

export const columns = [
  ['target', 'target'],
  ['measured', 'measured (Tidings vs peer)'],
  ['verdict', ''],
];
