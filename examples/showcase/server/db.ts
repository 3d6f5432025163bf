/**
 * The app's own state in SQLite (better-sqlite3): chat messages, jobs and the
 * devices' mood. The Python worker writes job checkpoints into the same file
 * (WAL mode, so readers and the worker's writes do not block each other).
 */
import Database from 'better-sqlite3';

export interface ChatMessage {
  id: number;
  conversation: string;
  author: string;
  text: string;
  at: number;
}

export interface Job {
  id: string;
  user: string;
  name: string;
  chunks: number;
  status: 'queued' | 'running' | 'done' | 'failed';
  stage: string;
  progress: number;
  error: string | null;
  created: number;
  updated: number;
}

export const CONVERSATIONS = [
  { id: 'general', title: 'General', topic: 'Company-wide announcements and chatter' },
  { id: 'design', title: 'Design review', topic: 'Mock-ups, feedback, decisions' },
  { id: 'support', title: 'Support rota', topic: 'Who is on call and what is burning' },
] as const;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation TEXT NOT NULL,
  author TEXT NOT NULL,
  text TEXT NOT NULL,
  client_key TEXT UNIQUE,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages (conversation, id);
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  user TEXT NOT NULL,
  name TEXT NOT NULL,
  chunks INTEGER NOT NULL,
  fail INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL,
  stage TEXT NOT NULL,
  progress REAL NOT NULL,
  error TEXT,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_user ON jobs (user, created);
CREATE TABLE IF NOT EXISTS moods (
  user TEXT PRIMARY KEY,
  mood TEXT NOT NULL,
  note TEXT NOT NULL,
  device TEXT NOT NULL,
  at INTEGER NOT NULL
);
`;

export type Mood = { mood: string; note: string; device: string; at: number };

export class Store {
  readonly db: Database.Database;

  constructor(readonly file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
  }

  /** Insert a message once per client key (a retried POST returns the first row). */
  addMessage(conversation: string, author: string, text: string, clientKey: string | null): { message: ChatMessage; created: boolean } {
    if (clientKey) {
      const existing = this.db.prepare('SELECT id, conversation, author, text, at FROM messages WHERE client_key = ?').get(clientKey) as ChatMessage | undefined;
      if (existing) return { message: existing, created: false };
    }
    const at = Date.now();
    const { lastInsertRowid } = this.db
      .prepare('INSERT INTO messages (conversation, author, text, client_key, at) VALUES (?, ?, ?, ?, ?)')
      .run(conversation, author, text, clientKey, at);
    return { message: { id: Number(lastInsertRowid), conversation, author, text, at }, created: true };
  }

  messages(conversation: string, limit = 200): ChatMessage[] {
    const rows = this.db
      .prepare('SELECT id, conversation, author, text, at FROM messages WHERE conversation = ? ORDER BY id DESC LIMIT ?')
      .all(conversation, limit) as ChatMessage[];
    return rows.reverse();
  }

  addJob(job: Pick<Job, 'id' | 'user' | 'name' | 'chunks'> & { fail: boolean }): Job {
    const now = Date.now();
    this.db
      .prepare("INSERT INTO jobs (id, user, name, chunks, fail, status, stage, progress, created, updated) VALUES (?, ?, ?, ?, ?, 'queued', 'queued', 0, ?, ?)")
      .run(job.id, job.user, job.name, job.chunks, job.fail ? 1 : 0, now, now);
    return this.job(job.id)!;
  }

  job(id: string): Job | undefined {
    return this.db.prepare('SELECT id, user, name, chunks, status, stage, progress, error, created, updated FROM jobs WHERE id = ?').get(id) as Job | undefined;
  }

  jobs(user: string): Job[] {
    return this.db
      .prepare('SELECT id, user, name, chunks, status, stage, progress, error, created, updated FROM jobs WHERE user = ? ORDER BY created DESC LIMIT 50')
      .all(user) as Job[];
  }

  setMood(user: string, mood: Mood): void {
    this.db
      .prepare('INSERT INTO moods (user, mood, note, device, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(user) DO UPDATE SET mood = excluded.mood, note = excluded.note, device = excluded.device, at = excluded.at')
      .run(user, mood.mood, mood.note, mood.device, mood.at);
  }

  mood(user: string): Mood | null {
    return (this.db.prepare('SELECT mood, note, device, at FROM moods WHERE user = ?').get(user) as Mood | undefined) ?? null;
  }

  close(): void {
    this.db.close();
  }
}
