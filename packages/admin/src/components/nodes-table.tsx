import type { NodeInfo } from '../api.js';
import { type Dashboard, formatRate, formatUptime, isFresh } from '../stats.js';
import { Empty, Panel } from './panel.js';

interface Row {
  info: NodeInfo;
  live: boolean;
  subscriptions?: number;
  in?: number;
  out?: number;
}

/** Nodes that report stats, and those the registry lists that have not reported (yet, or any more). */
function rows(d: Dashboard, registry: NodeInfo[] | null, now: number): Row[] {
  const byId = new Map<string, Row>();
  for (const info of registry ?? []) byId.set(info.id, { info, live: false });
  for (const [id, n] of Object.entries(d.nodes)) {
    const s = n.stats;
    byId.set(id, { info: s.node, live: isFresh(n, now), subscriptions: s.subscriptions, in: s.publicationRate, out: s.deliveryRate });
  }
  return [...byId.values()].sort((a, b) => a.info.address.localeCompare(b.info.address));
}

export function NodesTable(props: { dashboard: Dashboard; registry: NodeInfo[] | null; now: number }) {
  const list = rows(props.dashboard, props.registry, props.now);
  return (
    <Panel title="Nodes" className="span-12" aside={<span className="muted">from the engine's node registry</span>} testId="nodes">
      {list.length === 0 ? (
        <Empty title={props.registry === null ? 'Loading nodes…' : 'No node has reported yet'} />
      ) : (
        <table className="table table-lined">
          <thead>
            <tr>
              <th>Status</th>
              <th>Node</th>
              <th>Address</th>
              <th className="num">Connections</th>
              <th className="num">Users</th>
              <th className="num">Subscriptions</th>
              <th className="num">Channels</th>
              <th className="num">In/s</th>
              <th className="num">Out/s</th>
              <th className="num">Uptime</th>
            </tr>
          </thead>
          <tbody>
            {list.map((r) => (
              <tr key={r.info.id} data-testid="node-row" data-node={r.info.id}>
                <td>
                  <span className={`status ${r.live ? 'status-up' : 'status-stale'}`}>{r.live ? 'Up' : 'Not reporting'}</span>
                </td>
                <td className="mono">{r.info.id}</td>
                <td className="mono">{r.info.address}</td>
                <td className="num" data-testid="node-connections">{r.info.connections.toLocaleString('en-US')}</td>
                <td className="num">{r.info.users.toLocaleString('en-US')}</td>
                <td className="num">{r.subscriptions?.toLocaleString('en-US') ?? '–'}</td>
                <td className="num">{r.info.channels.toLocaleString('en-US')}</td>
                <td className="num">{r.in === undefined ? '–' : formatRate(r.in)}</td>
                <td className="num">{r.out === undefined ? '–' : formatRate(r.out)}</td>
                <td className="num">{formatUptime(r.info.uptime)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Panel>
  );
}
