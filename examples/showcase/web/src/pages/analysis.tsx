/**
 * Seed 003: clips analysed one after another over the same connection, as a
 * streamed RPC (the gateway proxies `analyze` to the backend, which answers
 * NDJSON). Partial results stream in; Cancel stops the call on the server.
 * The page shows the transport and how long each call took to start.
 */
import { useEffect, useRef, useState } from 'react';
import { useConnectionState, useRpc } from '@tidings/react';
import { useApp } from '../app.js';
import { Badge, Card, Empty, PageHeader, Progress } from '../components/ui.js';

const CLIPS = [
  { id: 'street', title: 'Street corner', seconds: 4 },
  { id: 'cafe', title: 'Café at noon', seconds: 6 },
  { id: 'drums', title: 'Drum loop', seconds: 3 },
  { id: 'birds', title: 'Morning birds', seconds: 5 },
];

interface Chunk {
  step: string;
  progress: number;
  at: number;
  loudness: number;
  label: string;
}

interface Result {
  clip: string;
  title: string;
  seconds: number;
  bpm: number | null;
  loudness: number;
  labels: string[];
}

interface Run {
  clip: string;
  status: 'queued' | 'running' | 'done' | 'cancelled' | 'error';
  transport: string;
  /** ms from the call to its first partial result. */
  startMs?: number;
  totalMs?: number;
  result?: Result;
  error?: string;
}

export function AnalysisPage() {
  const { transport, setTransport } = useApp();
  const conn = useConnectionState();
  const rpc = useRpc<{ clip: string }, Result, Chunk>('analyze', { timeout: 60_000 });
  const [picked, setPicked] = useState<string[]>(['street', 'drums', 'birds']);
  const [runs, setRuns] = useState<Run[]>([]);
  const stopped = useRef(false);
  const firstChunk = useRef<{ index: number; t0: number } | null>(null);

  // The first partial result of the current call: how long it took to start.
  useEffect(() => {
    const f = firstChunk.current;
    if (!f || rpc.chunks.length === 0) return;
    firstChunk.current = null;
    const startMs = Math.round(performance.now() - f.t0);
    setRuns((rs) => rs.map((r, i) => (i === f.index ? { ...r, startMs } : r)));
  }, [rpc.chunks.length]);

  const analyse = async () => {
    stopped.current = false;
    const queue = CLIPS.filter((c) => picked.includes(c.id));
    setRuns(queue.map((c) => ({ clip: c.id, status: 'queued', transport: conn.transport ?? transport })));
    for (const [index, clip] of queue.entries()) {
      if (stopped.current) {
        setRuns((rs) => rs.map((r, i) => (i >= index ? { ...r, status: 'cancelled' } : r)));
        break;
      }
      const t0 = performance.now();
      firstChunk.current = { index, t0 };
      setRuns((rs) => rs.map((r, i) => (i === index ? { ...r, status: 'running', transport: conn.transport ?? transport } : r)));
      const result = await rpc.call({ clip: clip.id });
      const totalMs = Math.round(performance.now() - t0);
      setRuns((rs) =>
        rs.map((r, i) => (i === index ? { ...r, totalMs, ...(result ? { status: 'done', result } : { status: stopped.current ? 'cancelled' : 'error', error: 'no result' }) } : r)),
      );
    }
  };

  const cancel = () => {
    stopped.current = true;
    rpc.cancel();
  };

  const latest = rpc.chunks[rpc.chunks.length - 1];
  const current = runs.find((r) => r.status === 'running');
  const running = runs.some((r) => r.status === 'running' || r.status === 'queued') && rpc.pending;
  const transportLabel = conn.transport === 'sse' ? 'SSE' : conn.transport === 'websocket' ? 'WebSocket' : '—';

  return (
    <>
      <PageHeader title="Audio analysis" subtitle="Clips are analysed one after another over the same connection, with results streamed as they are computed.">
        <label className="toggle" data-testid="force-sse">
          <input type="checkbox" checked={transport === 'sse'} onChange={(e) => setTransport(e.target.checked ? 'sse' : 'websocket')} disabled={running} />
          <span className="toggle-track">
            <span className="toggle-thumb" />
          </span>
          Force SSE
        </label>
        <span className="transport-tag" data-testid="transport">
          Transport: <strong>{transportLabel}</strong>
        </span>
      </PageHeader>
      <div className="grid grid-analysis">
        <Card title="Clips">
          <ul className="clips">
            {CLIPS.map((c) => (
              <li key={c.id}>
                <label className="check clip">
                  <input
                    type="checkbox"
                    data-clip={c.id}
                    checked={picked.includes(c.id)}
                    disabled={running}
                    onChange={(e) => setPicked((p) => (e.target.checked ? [...p, c.id] : p.filter((x) => x !== c.id)))}
                  />
                  <span className="clip-title">{c.title}</span>
                  <span className="muted small">{c.seconds} s</span>
                </label>
              </li>
            ))}
          </ul>
          <div className="row">
            <button className="btn btn-primary" disabled={running || picked.length === 0 || conn.state !== 'connected'} onClick={() => void analyse()} data-testid="analyse">
              Analyse {picked.length} clip{picked.length === 1 ? '' : 's'}
            </button>
            <button className="btn btn-danger-ghost" disabled={!running} onClick={cancel} data-testid="cancel">
              Cancel
            </button>
          </div>
        </Card>
        <Card title="Now analysing">
          {current && latest ? (
            <div className="now" data-testid="now">
              <div className="now-head">
                <strong>{CLIPS.find((c) => c.id === current.clip)?.title}</strong>
                <span className="muted small">
                  {latest.step} · {latest.progress}%
                </span>
              </div>
              <Progress value={latest.progress} />
              <div className="meter" aria-label="loudness">
                {rpc.chunks.map((c, i) => (
                  <span key={i} style={{ height: `${Math.max(6, Math.min(100, (c.loudness + 45) * 3))}%` }} title={`${c.loudness} dB`} />
                ))}
              </div>
              <p className="muted small">
                Heard so far: {[...new Set(rpc.chunks.map((c) => c.label))].join(', ')} · {latest.loudness} dB
              </p>
            </div>
          ) : (
            <Empty icon="headphones" title={current ? 'Starting…' : 'Nothing running'}>
              {current ? null : 'Pick clips and press Analyse. Partial results stream in here.'}
            </Empty>
          )}
        </Card>
      </div>
      <Card title="Results" className="mt">
        {runs.length === 0 ? (
          <Empty icon="chart" title="No analyses yet">
            Each clip shows its result, the transport it used and how long the request took to start.
          </Empty>
        ) : (
          <table className="table" data-testid="runs">
            <thead>
              <tr>
                <th>Clip</th>
                <th>Status</th>
                <th>Transport</th>
                <th>Time to first result</th>
                <th>Total</th>
                <th>Result</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.clip} data-run={r.clip} data-status={r.status}>
                  <td>{CLIPS.find((c) => c.id === r.clip)?.title}</td>
                  <td>
                    <Badge tone={r.status === 'done' ? 'success' : r.status === 'running' ? 'accent' : r.status === 'queued' ? 'neutral' : 'warning'}>{r.status}</Badge>
                  </td>
                  <td>{r.transport === 'sse' ? 'SSE' : 'WebSocket'}</td>
                  <td className="num" data-testid="start-ms">
                    {r.startMs !== undefined ? `${r.startMs} ms` : '—'}
                  </td>
                  <td className="num">{r.totalMs !== undefined ? `${(r.totalMs / 1000).toFixed(1)} s` : '—'}</td>
                  <td className="muted small">{r.result ? `${r.result.labels.join(', ')}${r.result.bpm ? ` · ${r.result.bpm} BPM` : ''} · ${r.result.loudness} dB` : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}
