import { formatRate } from '../stats.js';
import { Empty, NoNumbers, Panel } from './panel.js';

export function TopChannelsPanel(props: { channels: Array<{ channel: string; rate: number }>; waiting: boolean; stopped: boolean }) {
  const max = Math.max(1, ...props.channels.map((c) => c.rate));
  return (
    <Panel title="Top channels" className="span-4" aside={<span className="muted">publications/s</span>} testId="top-channels">
      {props.channels.length === 0 ? (
        props.waiting ? (
          <NoNumbers stopped={props.stopped}>Channels with subscribers show up here as soon as something is published to them.</NoNumbers>
        ) : (
          <Empty title="No publications right now">Channels with subscribers show up here as soon as something is published to them.</Empty>
        )
      ) : (
        <table className="table">
          <tbody>
            {props.channels.map((c) => (
              <tr key={c.channel} data-testid="top-channel">
                <td className="mono ellipsis" title={c.channel}>
                  {c.channel}
                </td>
                <td className="bar-cell">
                  <div className="bar" style={{ width: `${(c.rate / max) * 100}%` }} />
                </td>
                <td className="num">{formatRate(c.rate)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Panel>
  );
}
