/**
 * The dashboard: one Tidings connection (an admin token from /admin/api/token)
 * subscribed to `_tidings:stats`; every number on the page comes from its
 * messages. Actions go through /admin/api.
 */
import { useEffect, useMemo, useState } from 'react';
import { TidingsProvider, useConnectionState, useSubscription } from '@tidings/react';
import { type NodeInfo, api } from './api.js';
import { ActionsPanel } from './components/actions.js';
import { ChannelInspector } from './components/channel-inspector.js';
import { Header } from './components/header.js';
import { NodesTable } from './components/nodes-table.js';
import { RateChart } from './components/rate-chart.js';
import { StatTiles } from './components/stat-tiles.js';
import { TopChannelsPanel } from './components/top-channels.js';
import { EMPTY, type StatsMessage, fold, topChannels, totals } from './stats.js';

export const STATS_CHANNEL = '_tidings:stats';

const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;

export function App() {
  return (
    <TidingsProvider url={wsUrl} getToken={api.token} name="tidings-admin">
      <Dashboard />
    </TidingsProvider>
  );
}

/** Re-render every second, so nodes that stop reporting turn stale on screen (a local clock, nothing fetched). */
function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

function Dashboard() {
  const [dashboard, setDashboard] = useState(EMPTY);
  const [registry, setRegistry] = useState<NodeInfo[] | null>(null);
  /** Bumped after an action, so the channel view shows its effect. */
  const [changes, setChanges] = useState(0);
  const { state } = useConnectionState();
  const clock = useNow();
  useSubscription<StatsMessage>(STATS_CHANNEL, (pub) => setDashboard((d) => fold(d, pub.data, Date.now())));
  useEffect(() => {
    api.nodes().then((r) => setRegistry(r.nodes), () => setRegistry([]));
  }, []);
  const now = Math.max(clock, dashboard.series.at(-1)?.t ?? 0);
  const sum = useMemo(() => totals(dashboard, now), [dashboard, now]);
  const top = useMemo(() => topChannels(dashboard, now), [dashboard, now]);
  const waiting = Object.keys(dashboard.nodes).length === 0;
  // Failed (the session ended) or closed: no numbers are coming, so the panels must not say they wait for some.
  const stopped = state === 'failed' || state === 'disconnected';
  return (
    <div className="app" data-state={state}>
      <Header nodes={sum.nodes} />
      <main className="grid">
        <StatTiles totals={sum} waiting={waiting} />
        <RateChart series={dashboard.series} now={now} waiting={waiting} stopped={stopped} />
        <TopChannelsPanel channels={top} waiting={waiting} stopped={stopped} />
        <NodesTable dashboard={dashboard} registry={registry} now={now} />
        <ChannelInspector changes={changes} />
        <ActionsPanel onDone={() => setChanges((n) => n + 1)} />
      </main>
    </div>
  );
}
