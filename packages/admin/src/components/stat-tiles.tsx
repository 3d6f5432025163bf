import { type Totals, formatRate } from '../stats.js';

const TILES: Array<{ key: keyof Totals; label: string; unit?: string; rate?: boolean }> = [
  { key: 'nodes', label: 'Nodes' },
  { key: 'connections', label: 'Connections' },
  { key: 'users', label: 'Users' },
  { key: 'subscriptions', label: 'Subscriptions' },
  { key: 'channels', label: 'Channels' },
  { key: 'in', label: 'Publications', unit: '/s', rate: true },
  { key: 'out', label: 'Deliveries', unit: '/s', rate: true },
];

export function StatTiles(props: { totals: Totals; waiting: boolean }) {
  return (
    <div className="tiles">
      {TILES.map((t) => (
        <div className={`tile ${t.rate ? 'tile-rate' : ''}`} key={t.key} data-testid={`tile-${t.key}`}>
          <div className="tile-label">{t.label}</div>
          <div className="tile-value" data-testid={`value-${t.key}`}>
            {props.waiting ? '–' : t.rate ? formatRate(props.totals[t.key]) : props.totals[t.key].toLocaleString('en-US')}
            {t.unit && !props.waiting ? <span className="tile-unit">{t.unit}</span> : null}
          </div>
        </div>
      ))}
    </div>
  );
}
