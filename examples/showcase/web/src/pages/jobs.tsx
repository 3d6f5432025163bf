/**
 * Seed 002: document jobs run by a Python worker in its own process, which
 * publishes each checkpoint through the gateway's HTTP API on `jobs:#<me>`:
 * a channel only this user may subscribe to, so nobody sees anyone else's jobs.
 */
import { type FormEvent, useState } from 'react';
import type { Publication } from '@tidings/client';
import { useChannelState } from '@tidings/react';
import { api, timeOf } from '../api.js';
import { useApp } from '../app.js';
import { Icon } from '../components/icons.js';
import { Badge, Card, Empty, PageHeader, Progress } from '../components/ui.js';

interface Job {
  id: string;
  name: string;
  chunks: number;
  status: 'queued' | 'running' | 'done' | 'failed';
  stage: string;
  progress: number;
  error: string | null;
  created: number;
  chunk?: number;
}

interface Checkpoint {
  job: string;
  name: string;
  status: Job['status'];
  stage: string;
  progress: number;
  chunks: number;
  chunk?: number;
  error?: string;
}

const finished = (j: Job) => j.status === 'done' || j.status === 'failed';

/** Checkpoints only move a job forward, so a replayed or reloaded one changes nothing. */
function reduce(jobs: Job[], pub: Publication<Checkpoint>): Job[] {
  const c = pub.data;
  const old = jobs.find((j) => j.id === c.job);
  if (old && (finished(old) || (c.status === 'running' && c.progress < old.progress))) return jobs;
  const next: Job = {
    id: c.job,
    name: c.name,
    chunks: c.chunks,
    created: old?.created ?? pub.time ?? Date.now(),
    status: c.status,
    stage: c.stage,
    progress: c.progress,
    error: c.error ?? null,
    ...(c.chunk !== undefined ? { chunk: c.chunk } : {}),
  };
  return old ? jobs.map((j) => (j.id === c.job ? next : j)) : [next, ...jobs];
}

const STEPS = [
  { stage: 'started', label: 'Started', at: 5 },
  { stage: 'chunking', label: 'Chunking', at: 10 },
  { stage: 'processing', label: 'Processing chunks', at: 15 },
  { stage: 'merging', label: 'Merging', at: 75 },
  { stage: 'done', label: 'Done', at: 100 },
];

function stageText(j: Job): string {
  if (j.status === 'queued') return 'Queued';
  if (j.status === 'failed') return `Failed: ${j.error ?? 'unknown error'}`;
  if (j.stage === 'processing') return `Processing chunk ${j.chunk ?? 1} of ${j.chunks}`;
  return STEPS.find((s) => s.stage === j.stage)?.label ?? j.stage;
}

function StatusBadge({ job }: { job: Job }) {
  if (job.status === 'done') return <Badge tone="success">Done</Badge>;
  if (job.status === 'failed') return <Badge tone="danger">Failed</Badge>;
  if (job.status === 'queued') return <Badge tone="neutral">Queued</Badge>;
  return <Badge tone="accent">{Math.round(job.progress)}%</Badge>;
}

export function JobsPage() {
  const { user } = useApp();
  const { state: jobs, status } = useChannelState<Job[], Checkpoint>(`jobs:#${user}`, reduce, {
    initial: [],
    load: async () => ({ state: (await api<{ jobs: Job[] }>('/api/jobs')).jobs }),
  });
  const [submitted, setSubmitted] = useState<Job[]>([]);
  const [open, setOpen] = useState<string | null>(null);
  const [name, setName] = useState('Quarterly report.pdf');
  const [chunks, setChunks] = useState(4);
  const [fail, setFail] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const all = [...submitted.filter((s) => !jobs.some((j) => j.id === s.id)), ...jobs].sort((a, b) => b.created - a.created);
  const dialogJob = all.find((j) => j.id === open);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const job = await api<Job>('/api/jobs', { body: { name, chunks, fail } });
      setSubmitted((s) => [job, ...s]);
      setOpen(job.id);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <>
      <PageHeader title="Background jobs" subtitle="A Python worker processes your documents and reports each checkpoint. Only you see your jobs." />
      <div className="grid grid-jobs">
        <Card title="New document job">
          <form className="form" onSubmit={(e) => void submit(e)}>
            <label className="field">
              <span>Document</span>
              <input value={name} onChange={(e) => setName(e.target.value)} data-testid="job-name" maxLength={80} />
            </label>
            <label className="field">
              <span>Chunks</span>
              <select value={chunks} onChange={(e) => setChunks(Number(e.target.value))} data-testid="job-chunks">
                {[2, 3, 4, 6, 8].map((n) => (
                  <option key={n} value={n}>
                    {n} chunks
                  </option>
                ))}
              </select>
            </label>
            <label className="check">
              <input type="checkbox" checked={fail} onChange={(e) => setFail(e.target.checked)} data-testid="job-fail" />
              Simulate a failure halfway
            </label>
            {error ? <p className="error">{error}</p> : null}
            <button className="btn btn-primary btn-block" data-testid="job-submit">
              Submit job
            </button>
          </form>
        </Card>
        <Card title="Your jobs" extra={<span className="muted small">{all.length ? `${all.filter((j) => !finished(j)).length} running` : ''}</span>}>
          {all.length === 0 ? (
            <Empty icon="doc" title={status === 'loading' ? 'Loading your jobs…' : 'No jobs yet'}>
              {status === 'loading' ? null : 'Submit a document: its progress appears here, checkpoint by checkpoint.'}
            </Empty>
          ) : (
            <ul className="jobs" data-testid="jobs">
              {all.map((j) => (
                <li key={j.id} className={`job job-${j.status}`} data-job={j.id} data-status={j.status} data-progress={j.progress}>
                  <button className="job-row" onClick={() => setOpen(j.id)}>
                    <span className="job-icon">
                      <Icon name={j.status === 'done' ? 'check' : j.status === 'failed' ? 'alert' : j.status === 'queued' ? 'clock' : 'doc'} size={18} />
                    </span>
                    <span className="job-main">
                      <span className="job-title">
                        <strong>{j.name}</strong>
                        <StatusBadge job={j} />
                      </span>
                      <Progress value={j.progress} tone={j.status === 'failed' ? 'danger' : j.status === 'done' ? 'success' : 'accent'} />
                      <span className="muted small">
                        {stageText(j)} · submitted {timeOf(j.created)}
                      </span>
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>
      {dialogJob ? <JobDialog job={dialogJob} onClose={() => setOpen(null)} /> : null}
    </>
  );
}

function JobDialog({ job, onClose }: { job: Job; onClose: () => void }) {
  // The step the job is at: before it done, after it pending; a failed job fails at the step it had reached.
  const at = job.status === 'done' ? STEPS.length : Math.max(0, STEPS.findIndex((s) => s.at > job.progress) - 1);
  const stepState = (i: number) => {
    if (job.status === 'queued') return 'pending';
    if (i < at) return 'done';
    if (i === at) return job.status === 'failed' ? 'failed' : 'active';
    return job.status === 'failed' ? 'skipped' : 'pending';
  };
  return (
    <div className="overlay" onClick={onClose}>
      <div className="dialog card" role="dialog" aria-label={`Progress of ${job.name}`} onClick={(e) => e.stopPropagation()} data-testid="job-dialog">
        <div className="card-head">
          <h2>{job.name}</h2>
          <StatusBadge job={job} />
        </div>
        <div className="dialog-progress">
          <span className="big-number" data-testid="dialog-progress">
            {Math.round(job.progress)}%
          </span>
          <span className="muted">{stageText(job)}</span>
        </div>
        <Progress value={job.progress} tone={job.status === 'failed' ? 'danger' : job.status === 'done' ? 'success' : 'accent'} />
        <ol className="checkpoints">
          {STEPS.map((s, i) => {
            const state = stepState(i);
            return (
              <li key={s.stage} className={`checkpoint checkpoint-${state}`}>
                <span className="checkpoint-mark">{state === 'done' ? '✓' : state === 'failed' ? '!' : ''}</span>
                <span>
                  {s.label}
                  {s.stage === 'processing' && state === 'active' ? <span className="muted small"> · chunk {job.chunk ?? 1} of {job.chunks}</span> : null}
                </span>
                <span className="muted small">{s.stage === 'processing' ? `15–75%` : `${s.at}%`}</span>
              </li>
            );
          })}
        </ol>
        {job.status === 'failed' ? <p className="error">{job.error}</p> : null}
        <div className="dialog-actions">
          <button className="btn btn-ghost" onClick={onClose} data-testid="dialog-close">
            {finished(job) ? 'Close' : 'Run in background'}
          </button>
        </div>
      </div>
    </div>
  );
}
