import { type FormEvent, useEffect, useRef, useState } from 'react';
import { type ChannelView, api } from '../api.js';
import { Empty, Panel } from './panel.js';

type Load = { status: 'idle' } | { status: 'loading'; channel: string } | { status: 'done'; view: ChannelView } | { status: 'error'; message: string };

function time(ms: number): string {
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
}

function preview(data: unknown): string {
  const s = JSON.stringify(data);
  return s.length > 120 ? `${s.slice(0, 117)}…` : s;
}

function ChannelDetails({ view }: { view: ChannelView }) {
  const { presence, history } = view;
  return (
    <div className="inspect" data-testid="channel-view">
      <div className="facts">
        <span>
          Namespace <b className="mono">{view.namespace || '(default)'}</b>
        </span>
        <span>
          Subscribers on this node <b>{view.subscribersHere}</b>
        </span>
        <span>
          Position <b className="mono">{history.enabled ? `${history.offset} · ${history.epoch}` : 'no history'}</b>
        </span>
      </div>
      <div className="inspect-cols">
        <div>
          <h3>Presence {presence.enabled ? <span className="count">{presence.total}</span> : null}</h3>
          {!presence.enabled ? (
            <p className="muted small">Presence is off for this namespace.</p>
          ) : presence.clients.length === 0 ? (
            <p className="muted small">Nobody is subscribed right now.</p>
          ) : (
            <ul className="presence" data-testid="presence">
              {presence.clients.map((c) => (
                <li key={c.client}>
                  <span className="avatar">{c.user.slice(0, 2).toUpperCase()}</span>
                  <span className="mono">{c.user}</span>
                  <span className="muted mono small">{c.client}</span>
                </li>
              ))}
            </ul>
          )}
        </div>
        <div>
          <h3>Recent history</h3>
          {!history.enabled ? (
            <p className="muted small">History is off for this namespace.</p>
          ) : history.publications.length === 0 ? (
            <p className="muted small">Nothing published yet (or it has expired).</p>
          ) : (
            <div className="scroll">
            <table className="table table-lined" data-testid="history">
              <thead>
                <tr>
                  <th className="num">Offset</th>
                  <th>Time</th>
                  <th>From</th>
                  <th>Data</th>
                </tr>
              </thead>
              <tbody>
                {history.publications.map((p) => (
                  <tr key={p.offset} data-testid="history-row">
                    <td className="num mono">{p.offset}</td>
                    <td className="mono">{time(p.time)}</td>
                    <td className="mono">{p.user ?? <span className="muted">API</span>}</td>
                    <td className="mono ellipsis data" title={JSON.stringify(p.data)}>
                      {preview(p.data)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            </div>
          )}
        </div>
      </div>
    </div>
  );
}

/** `changes` counts the actions taken elsewhere on the page: each one reloads the channel shown. */
export function ChannelInspector({ changes }: { changes: number }) {
  const [channel, setChannel] = useState('');
  const [load, setLoad] = useState<Load>({ status: 'idle' });
  const shown = useRef<string | undefined>(undefined);
  const inspect = async (name: string, quiet = false) => {
    shown.current = name;
    if (!quiet) setLoad({ status: 'loading', channel: name });
    try {
      setLoad({ status: 'done', view: await api.channel(name) });
    } catch (err) {
      setLoad({ status: 'error', message: (err as Error).message });
    }
  };
  useEffect(() => {
    // The disconnect leaves presence a moment later (the sessions close on every node): reload now and once more shortly after.
    if (changes === 0 || !shown.current) return;
    const name = shown.current;
    void inspect(name, true);
    const timer = setTimeout(() => void inspect(name, true), 500);
    return () => clearTimeout(timer);
  }, [changes]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (channel.trim()) void inspect(channel.trim());
  };
  const current = load.status === 'done' ? load.view.channel : undefined;
  return (
    <Panel
      title="Channel"
      className="span-8 align-start"
      testId="inspector"
      aside={current ? <button className="btn btn-ghost btn-small" onClick={() => void inspect(current)}>Refresh</button> : null}
    >
      <form className="search" onSubmit={submit}>
        <input className="input mono" placeholder="Channel name, e.g. chat:lobby" value={channel} onChange={(e) => setChannel(e.target.value)} aria-label="Channel" data-testid="channel-input" />
        <button className="btn" type="submit" disabled={load.status === 'loading'}>
          {load.status === 'loading' ? 'Looking…' : 'Inspect'}
        </button>
      </form>
      {load.status === 'idle' ? <Empty title="Search a channel">See who is present on it and its most recent publications.</Empty> : null}
      {load.status === 'error' ? <div className="notice notice-danger" role="alert">{load.message}</div> : null}
      {load.status === 'done' ? <ChannelDetails view={load.view} /> : null}
    </Panel>
  );
}
