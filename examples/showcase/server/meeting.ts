/**
 * Seed 000: a meeting recording goes through upload → diarization →
 * transcription → alignment → summary. Each stage, each transcript segment
 * and the summary are broadcast on `meeting:<id>` as they are produced; the
 * backend keeps the state too, for `load()` when recovery is impossible.
 * The models are simulated: the point is the delivery, not the speech.
 */
import type { Broadcaster } from './broadcaster.js';
import { HttpError } from './http.js';

export const STAGES = ['upload', 'diarization', 'transcription', 'alignment', 'summary'] as const;
type Stage = (typeof STAGES)[number];

export interface Segment {
  index: number;
  speaker: string;
  start: number;
  end: number;
  text: string;
}

export interface MeetingState {
  id: string;
  run: number;
  file: { name: string; bytes: number } | null;
  startedBy: string | null;
  stages: Record<Stage, 'pending' | 'running' | 'done'>;
  segments: Segment[];
  summary: { text: string; actionItems: string[] } | null;
  status: 'idle' | 'processing' | 'done';
}

const SCRIPT: Array<[string, string]> = [
  ['Maya', 'Morning all. Quick one today: the release, the polling bug, and on-call.'],
  ['Jonas', 'Release candidate is green. The last blocker was the upload timeout, fixed yesterday.'],
  ['Priya', 'The dashboard still polls every two seconds. I moved it to a subscription on staging.'],
  ['Maya', 'How does it behave when the gateway restarts?'],
  ['Priya', 'It shows reconnecting, comes back in a second, and replays what it missed.'],
  ['Jonas', 'Then let us ship it with the release on Thursday.'],
  ['Maya', 'Agreed. Priya owns the rollout, Jonas the release notes.'],
  ['Priya', 'I will post the numbers in the design channel after the rollout.'],
];

const SUMMARY = {
  text: 'The release candidate is green and ships Thursday together with the move from polling to subscriptions, which already survives gateway restarts on staging.',
  actionItems: ['Priya: roll out the subscription-based dashboard', 'Jonas: write the release notes', 'Priya: share rollout numbers in #design'],
};

const MEETING_ID = /^[a-z0-9-]{1,40}$/;

export class Meetings {
  private readonly meetings = new Map<string, MeetingState>();

  constructor(
    private readonly broadcaster: Broadcaster,
    /** Pause between pipeline steps, ms. */
    private readonly stepMs: number,
  ) {}

  static channel(id: string): string {
    return `meeting:${id}`;
  }

  static checkId(id: string): string {
    if (!MEETING_ID.test(id)) throw new HttpError(400, 'meeting id: 1-40 characters of a-z, 0-9 and -');
    return id;
  }

  get(id: string): MeetingState {
    return this.meetings.get(Meetings.checkId(id)) ?? fresh(id, 0);
  }

  /** Start a run on meeting `id` (refused while one is processing). */
  start(id: string, user: string, file: { name: string; bytes: number }): MeetingState {
    const current = this.get(id);
    if (current.status === 'processing') throw new HttpError(409, 'this meeting is already being processed');
    const state: MeetingState = { ...fresh(id, current.run + 1), file, startedBy: user, status: 'processing' };
    this.meetings.set(id, state);
    void this.run(state);
    return state;
  }

  private emit(state: MeetingState, event: Record<string, unknown>): void {
    void this.broadcaster.publish(Meetings.channel(state.id), { run: state.run, ...event });
  }

  private async run(state: MeetingState): Promise<void> {
    const pause = (factor = 1) => new Promise((r) => setTimeout(r, this.stepMs * factor));
    this.emit(state, { type: 'started', file: state.file, startedBy: state.startedBy });
    for (const stage of STAGES) {
      state.stages[stage] = 'running';
      this.emit(state, { type: 'stage', stage, status: 'running' });
      await pause();
      if (stage === 'transcription') {
        let t = 0;
        for (const [index, [speaker, text]] of SCRIPT.entries()) {
          const duration = Math.round(text.length / 14);
          const segment = { index, speaker, start: t, end: t + duration, text };
          t += duration + 1;
          state.segments.push(segment);
          this.emit(state, { type: 'segment', segment });
          await pause(0.5);
        }
      }
      if (stage === 'summary') {
        state.summary = SUMMARY;
        this.emit(state, { type: 'summary', summary: SUMMARY });
      }
      state.stages[stage] = 'done';
      this.emit(state, { type: 'stage', stage, status: 'done' });
    }
    state.status = 'done';
    this.emit(state, { type: 'done' });
  }
}

function fresh(id: string, run: number): MeetingState {
  return {
    id,
    run,
    file: null,
    startedBy: null,
    stages: Object.fromEntries(STAGES.map((s) => [s, 'pending'])) as MeetingState['stages'],
    segments: [],
    summary: null,
    status: 'idle',
  };
}
