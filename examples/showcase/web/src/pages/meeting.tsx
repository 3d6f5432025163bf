/**
 * Seed 000: a recording goes through the pipeline; every viewer sees each
 * stage, each transcript segment and the summary as they are produced. A
 * viewer who joins late or reconnects gets the whole run: from the
 * gateway's history when it can replay, else from load().
 */
import { useLayoutEffect, useRef, useState } from 'react';
import type { Client, Publication } from '@tidings/client';
import { type Loaded, useChannelState, useClient } from '@tidings/react';
import { api } from '../api.js';
import { Avatar } from '../components/header.js';
import { Icon } from '../components/icons.js';
import { Badge, Card, Empty, PageHeader } from '../components/ui.js';

const MEETING = 'weekly-standup';
const STAGES = ['upload', 'diarization', 'transcription', 'alignment', 'summary'] as const;
const STAGE_LABEL: Record<Stage, string> = {
  upload: 'Upload',
  diarization: 'Diarization',
  transcription: 'Transcription',
  alignment: 'Alignment',
  summary: 'Summary',
};
type Stage = (typeof STAGES)[number];
type StageStatus = 'pending' | 'running' | 'done';

interface Segment {
  index: number;
  speaker: string;
  start: number;
  end: number;
  text: string;
}

interface Meeting {
  run: number;
  file: { name: string; bytes: number } | null;
  startedBy: string | null;
  stages: Record<Stage, StageStatus>;
  segments: Segment[];
  summary: { text: string; actionItems: string[] } | null;
  status: 'idle' | 'processing' | 'done';
}

type MeetingEvent =
  | { run: number; type: 'started'; file: Meeting['file']; startedBy: string }
  | { run: number; type: 'stage'; stage: Stage; status: StageStatus }
  | { run: number; type: 'segment'; segment: Segment }
  | { run: number; type: 'summary'; summary: NonNullable<Meeting['summary']> }
  | { run: number; type: 'done' };

const pendingStages = () => Object.fromEntries(STAGES.map((s) => [s, 'pending'])) as Meeting['stages'];
const EMPTY: Meeting = { run: 0, file: null, startedBy: null, stages: pendingStages(), segments: [], summary: null, status: 'idle' };

/** Idempotent: a publication the snapshot already holds changes nothing. */
function reduce(m: Meeting, pub: Publication<MeetingEvent>): Meeting {
  const ev = pub.data;
  if (ev.run < m.run) return m;
  const base = ev.run > m.run ? { ...EMPTY, stages: pendingStages(), run: ev.run, status: 'processing' as const } : m;
  switch (ev.type) {
    case 'started':
      return { ...base, file: ev.file, startedBy: ev.startedBy, status: 'processing' };
    case 'stage':
      return { ...base, stages: { ...base.stages, [ev.stage]: ev.status } };
    case 'segment':
      if (base.segments.some((s) => s.index === ev.segment.index)) return base;
      return { ...base, segments: [...base.segments, ev.segment].sort((a, b) => a.index - b.index) };
    case 'summary':
      return { ...base, summary: ev.summary };
    case 'done':
      return { ...base, status: 'done' };
  }
}

const CHANNEL = `meeting:${MEETING}`;

/**
 * The latest run, replayed from the gateway's history when it holds the whole
 * run (a late joiner); else (no run yet, or a restarted gateway that lost its
 * history) the backend's copy.
 */
async function loadMeeting(client: Client): Promise<Loaded<Meeting>> {
  const history = await client.history(CHANNEL, { limit: 2000 }).catch(() => null);
  const pubs = (history?.publications ?? []) as Array<Publication<MeetingEvent>>;
  const start = pubs.map((p) => p.data.type).lastIndexOf('started');
  if (history && start >= 0) {
    return { state: pubs.slice(start).reduce(reduce, EMPTY), position: { offset: history.offset, epoch: history.epoch } };
  }
  return { state: await api<Meeting>(`/api/meetings/${MEETING}`) };
}

const clock = (s: number) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;

export function MeetingPage() {
  const client = useClient();
  const { state: m, status } = useChannelState<Meeting, MeetingEvent>(CHANNEL, reduce, {
    initial: EMPTY,
    load: () => loadMeeting(client),
  });
  const [file, setFile] = useState<File | null>(null);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const transcript = useRef<HTMLUListElement>(null);
  // Follow the transcript as segments arrive.
  useLayoutEffect(() => {
    const el = transcript.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [m.segments.length]);

  const process = async () => {
    setError(null);
    try {
      const blob = file ?? (await (await fetch('/samples/standup.wav')).blob());
      await api(`/api/meetings/${MEETING}/recordings`, { raw: blob, headers: { 'x-file-name': file?.name ?? 'standup.wav' } });
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const busy = m.status === 'processing';
  return (
    <>
      <PageHeader title="Live meeting" subtitle="Upload a recording: every viewer watches the pipeline, the transcript and the summary arrive as they are produced.">
        {m.run > 0 ? <Badge tone={busy ? 'accent' : 'success'}>{busy ? 'Processing' : 'Processed'}</Badge> : null}
      </PageHeader>
      <div className="grid grid-meeting">
        <div className="stack">
          <Card title="Recording">
            <div className="file-pick">
              <div className="file-row">
                <span className="file-icon">
                  <Icon name="music" />
                </span>
                <div className="file-meta">
                  <strong>{file ? file.name : 'standup.wav'}</strong>
                  <span className="muted small">{file ? `${Math.round(file.size / 1024)} KB, your file` : 'Sample, 16 KB'}</span>
                </div>
                <button className="btn btn-ghost btn-sm" onClick={() => input.current?.click()}>
                  Choose file…
                </button>
                <input ref={input} type="file" accept="audio/*" hidden data-testid="meeting-file" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
              </div>
              {!file ? <audio controls src="/samples/standup.wav" className="audio" /> : null}
              <button className="btn btn-primary btn-block" disabled={busy || status === 'loading'} onClick={() => void process()} data-testid="meeting-start">
                {busy ? 'Processing…' : m.run > 0 ? 'Process again' : 'Process recording'}
              </button>
              {error ? <p className="error">{error}</p> : null}
            </div>
          </Card>
          <Card title="Pipeline">
            <ol className="stepper" data-testid="stages" data-run={m.run}>
              {STAGES.map((s, i) => (
                <li key={s} className={`step step-${m.stages[s]}`} data-stage={s} data-status={m.stages[s]}>
                  <span className="step-mark">{m.stages[s] === 'done' ? '✓' : i + 1}</span>
                  <span className="step-label">{STAGE_LABEL[s]}</span>
                  <span className="step-state muted small">{m.stages[s] === 'running' ? 'running…' : m.stages[s] === 'done' ? 'done' : 'waiting'}</span>
                </li>
              ))}
            </ol>
            {m.startedBy ? (
              <p className="muted small">
                {m.file?.name} · started by {m.startedBy}
              </p>
            ) : null}
          </Card>
        </div>
        <div className="stack">
          <Card title="Transcript" extra={<span className="muted small" data-testid="segment-count">{m.segments.length} segments</span>}>
            {m.segments.length === 0 ? (
              <Empty icon="mic" title={busy ? 'Listening…' : 'No transcript yet'}>
                {busy ? 'Segments appear here as soon as they are transcribed.' : 'Process a recording to see its transcript arrive live.'}
              </Empty>
            ) : (
              <ul className="transcript" data-testid="transcript" ref={transcript}>
                {m.segments.map((s) => (
                  <li key={s.index} className="segment" data-index={s.index}>
                    <Avatar name={s.speaker.toLowerCase()} size={30} />
                    <div>
                      <div className="segment-head">
                        <strong>{s.speaker}</strong>
                        <span className="muted small">{clock(s.start)}</span>
                      </div>
                      <p>{s.text}</p>
                    </div>
                  </li>
                ))}
              </ul>
            )}
          </Card>
          <Card title="Summary">
            {m.summary ? (
              <div className="summary" data-testid="summary">
                <p>{m.summary.text}</p>
                <h3>Action items</h3>
                <ul className="checklist">
                  {m.summary.actionItems.map((a) => (
                    <li key={a}>{a}</li>
                  ))}
                </ul>
              </div>
            ) : (
              <Empty icon="doc" title="No summary yet">
                The summary is written once the transcript is aligned.
              </Empty>
            )}
          </Card>
        </div>
      </div>
    </>
  );
}
