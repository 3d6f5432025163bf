/**
 * What the page folds from `_tidings:stats`: each node publishes its own
 * numbers every interval (docs/admin.md); the page keeps the latest message
 * per node, adds up the nodes still reporting, and keeps a few minutes of
 * rates for the chart. Pure functions: the React side only holds the state.
 */
export interface StatsMessage {
  node: { id: string; address: string; connections: number; users: number; channels: number; uptime: number; updated: number };
  subscriptions: number;
  publications: number;
  deliveries: number;
  publicationRate: number;
  deliveryRate: number;
  topChannels: Array<{ channel: string; rate: number }>;
  time: number;
}

export interface RatePoint {
  /** Whole second (ms since the epoch, floored). */
  t: number;
  in: number;
  out: number;
}

export interface Dashboard {
  nodes: Record<string, { stats: StatsMessage; receivedAt: number }>;
  series: RatePoint[];
}

/** A node silent this long is shown as not reporting, and left out of the totals. */
export const STALE_MS = 5_000;
/** Seconds of rates the chart keeps. */
export const SERIES_SECONDS = 300;

export const EMPTY: Dashboard = { nodes: {}, series: [] };

export function isFresh(entry: { receivedAt: number }, now: number): boolean {
  return now - entry.receivedAt < STALE_MS;
}

function fresh(d: Dashboard, now: number): StatsMessage[] {
  return Object.values(d.nodes)
    .filter((n) => isFresh(n, now))
    .map((n) => n.stats);
}

export interface Totals {
  nodes: number;
  connections: number;
  users: number;
  subscriptions: number;
  channels: number;
  in: number;
  out: number;
}

export function totals(d: Dashboard, now: number): Totals {
  const t: Totals = { nodes: 0, connections: 0, users: 0, subscriptions: 0, channels: 0, in: 0, out: 0 };
  for (const s of fresh(d, now)) {
    t.nodes++;
    t.connections += s.node.connections;
    t.users += s.node.users;
    t.subscriptions += s.subscriptions;
    t.channels += s.node.channels;
    t.in += s.publicationRate;
    t.out += s.deliveryRate;
  }
  return t;
}

/** A channel's rate is the same on every node holding it: the busiest channels across nodes take each one's highest. */
export function topChannels(d: Dashboard, now: number, n = 10): Array<{ channel: string; rate: number }> {
  const best = new Map<string, number>();
  for (const s of fresh(d, now)) for (const c of s.topChannels) best.set(c.channel, Math.max(best.get(c.channel) ?? 0, c.rate));
  return [...best]
    .map(([channel, rate]) => ({ channel, rate }))
    .sort((a, b) => b.rate - a.rate || a.channel.localeCompare(b.channel))
    .slice(0, n);
}

/** Fold one message: the node's latest numbers, and this second's point of the chart. */
export function fold(d: Dashboard, msg: StatsMessage, now: number): Dashboard {
  const nodes = { ...d.nodes, [msg.node.id]: { stats: msg, receivedAt: now } };
  const next = { nodes, series: d.series };
  const t = totals(next, now);
  const second = Math.floor(now / 1000) * 1000;
  const point = { t: second, in: round(t.in), out: round(t.out) };
  const last = d.series[d.series.length - 1];
  const series = last?.t === second ? [...d.series.slice(0, -1), point] : [...d.series, point];
  return { nodes, series: series.filter((p) => p.t > second - SERIES_SECONDS * 1000) };
}

const round = (n: number) => Math.round(n * 10) / 10;

export function formatRate(n: number): string {
  if (n >= 10_000) return `${(n / 1000).toFixed(0)}k`;
  if (n >= 1000) return `${(n / 1000).toFixed(1)}k`;
  return n >= 100 || Number.isInteger(n) ? n.toFixed(0) : n.toFixed(1);
}

export function formatUptime(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
  return `${Math.floor(seconds / 86_400)}d ${Math.floor((seconds % 86_400) / 3600)}h`;
}
