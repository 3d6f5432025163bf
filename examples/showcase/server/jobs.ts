/**
 * Seed 002: document jobs. The backend records the job and hands it to the
 * Python worker (a separate process, standard library only) over its stdin;
 * the worker writes each checkpoint into SQLite and publishes it through the
 * gateway's HTTP API on `jobs:#<user>`, a channel only that user may join.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Job, Store } from './db.js';
import { HttpError } from './http.js';
import { PYTHON_SDK_DIR, WORKER_FILE } from './paths.js';

export const jobsChannel = (user: string) => `jobs:#${user}`;

export interface WorkerOptions {
  python: string;
  gatewayUrl: string;
  apiKey: string;
  dbFile: string;
  /** Pause per checkpoint, ms. */
  stepMs: number;
}

/** The Python worker process; restarted if it dies, jobs queued meanwhile are sent when it is back. */
export class Worker {
  private child?: ChildProcess;
  private stopped = false;

  constructor(private readonly opts: WorkerOptions) {}

  start(): void {
    const child = spawn(this.opts.python, ['-u', WORKER_FILE], {
      env: {
        PATH: process.env.PATH,
        PYTHONPATH: PYTHON_SDK_DIR,
        TIDINGS_URL: this.opts.gatewayUrl,
        TIDINGS_API_KEY: this.opts.apiKey,
        SHOWCASE_DB: this.opts.dbFile,
        SHOWCASE_STEP_MS: String(this.opts.stepMs),
      },
      stdio: ['pipe', 'inherit', 'inherit'],
    });
    child.on('error', (err) => console.error(`showcase: cannot start the Python worker (${this.opts.python}):`, err.message));
    child.on('exit', (code) => {
      if (this.stopped) return;
      console.error(`showcase: worker exited (${code}); restarting`);
      setTimeout(() => this.start(), 500).unref();
    });
    this.child = child;
  }

  send(job: Job & { fail: boolean }): void {
    if (!this.child?.stdin?.writable) throw new HttpError(503, 'the worker is not running');
    this.child.stdin.write(`${JSON.stringify(job)}\n`);
  }

  stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (!child || child.exitCode !== null) return Promise.resolve();
    return new Promise((r) => {
      const force = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('exit', () => {
        clearTimeout(force);
        r();
      });
      child.kill('SIGTERM');
    });
  }

  /** For process 'exit' handlers: kill at once, synchronously. */
  killNow(): void {
    this.stopped = true;
    if (this.child?.exitCode === null) this.child.kill('SIGKILL');
  }
}

export class Jobs {
  constructor(
    private readonly store: Store,
    private readonly worker: Worker,
  ) {}

  submit(user: string, body: Record<string, unknown>): Job {
    const name = typeof body.name === 'string' && body.name.trim() ? body.name.trim().slice(0, 80) : 'Untitled document';
    const chunks = Number.isInteger(body.chunks) ? (body.chunks as number) : 4;
    if (chunks < 1 || chunks > 12) throw new HttpError(400, 'chunks: an integer from 1 to 12');
    const fail = body.fail === true;
    const job = this.store.addJob({ id: `job_${randomBytes(6).toString('hex')}`, user, name, chunks, fail });
    this.worker.send({ ...job, fail });
    return job;
  }

  list(user: string): Job[] {
    return this.store.jobs(user);
  }
}
