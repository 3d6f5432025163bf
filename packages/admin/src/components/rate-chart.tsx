/** Publications in and deliveries out per second over the last minutes: a small SVG chart, no library. */
import { type RatePoint, SERIES_SECONDS, formatRate } from '../stats.js';
import { NoNumbers, Panel } from './panel.js';

const W = 640;
const H = 180;
const PAD = { left: 44, right: 10, top: 10, bottom: 22 };
/** The chart shows this many seconds, growing to SERIES_SECONDS as points arrive. */
const MIN_WINDOW = 60;

/** A round maximum for the y axis: 1, 2, 5 × 10^n. */
function niceMax(v: number): number {
  if (v <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function path(points: RatePoint[], pick: (p: RatePoint) => number, x: (t: number) => number, y: (v: number) => number): string {
  return points.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(pick(p)).toFixed(1)}`).join('');
}

export function RateChart(props: { series: RatePoint[]; now: number; waiting: boolean; stopped: boolean }) {
  const { series } = props;
  const last = series.at(-1);
  const legend = (
    <div className="legend">
      <span className="legend-in">Publications/s {last ? <b data-testid="rate-in">{formatRate(last.in)}</b> : null}</span>
      <span className="legend-out">Deliveries/s {last ? <b data-testid="rate-out">{formatRate(last.out)}</b> : null}</span>
    </div>
  );
  if (props.waiting || series.length === 0) {
    return (
      <Panel title="Message rates" className="span-8" aside={legend} testId="chart">
        <NoNumbers stopped={props.stopped}>Every node reports once per second over the live connection.</NoNumbers>
      </Panel>
    );
  }
  const end = Math.floor(props.now / 1000) * 1000;
  const span = Math.min(SERIES_SECONDS, Math.max(MIN_WINDOW, Math.ceil((end - series[0]!.t) / 1000))) * 1000;
  const start = end - span;
  const max = niceMax(Math.max(...series.map((p) => Math.max(p.in, p.out))));
  const x = (t: number) => PAD.left + ((t - start) / span) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (v / max) * (H - PAD.top - PAD.bottom);
  const ticks = [0, max / 2, max];
  const seconds = span / 1000;
  const xTicks = [seconds, seconds / 2, 0];
  const shown = series.filter((p) => p.t >= start);
  return (
    <Panel title="Message rates" className="span-8" aside={legend} testId="chart">
      <svg className="chart" viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label="Publications and deliveries per second">
        {ticks.map((v) => (
          <g key={v}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} className="grid-line" />
            <text x={PAD.left - 6} y={y(v) + 4} className="axis" textAnchor="end">
              {formatRate(v)}
            </text>
          </g>
        ))}
        {xTicks.map((s) => (
          <text key={s} x={x(end - s * 1000)} y={H - 6} className="axis" textAnchor={s === 0 ? 'end' : s === seconds ? 'start' : 'middle'}>
            {s === 0 ? 'now' : s >= 120 ? `-${Math.round(s / 60)}m` : `-${Math.round(s)}s`}
          </text>
        ))}
        <path d={`${path(shown, (p) => p.out, x, y)}`} className="line-out" />
        <path d={`${path(shown, (p) => p.in, x, y)}`} className="line-in" />
      </svg>
    </Panel>
  );
}
