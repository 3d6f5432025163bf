/**
 * The offline publish queue: publishes made while there is no session wait
 * here and go out, in order, as soon as the next connection is established.
 * It is bounded (`offlineQueueSize`) so an application that stays offline
 * cannot grow it without end: past the bound, publish rejects at once.
 */
import { ErrorCode, type StreamPosition } from '@tidings/protocol';
import { TidingsError } from './errors.js';

/** Sends one publish; `done` runs with its reply. */
export type SendPublish = (channel: string, data: unknown, done: (err: Error | null, pos?: StreamPosition) => void) => void;

interface Queued {
  channel: string;
  data: unknown;
  resolve: (pos: StreamPosition) => void;
  reject: (err: Error) => void;
}

export class OfflineQueue {
  private items: Queued[] = [];

  constructor(private readonly limit: number) {}

  /** Hold a publish until the next connection; rejects at once when the queue is full. */
  add(channel: string, data: unknown): Promise<StreamPosition> {
    if (this.items.length >= this.limit) {
      return Promise.reject(new TidingsError(ErrorCode.LimitExceeded, 'offline queue is full'));
    }
    return new Promise((resolve, reject) => this.items.push({ channel, data, resolve, reject }));
  }

  /** Send every held publish, oldest first; each promise settles with its reply. */
  flush(send: SendPublish): void {
    for (const q of this.take()) {
      send(q.channel, q.data, (err, pos) => (err || !pos ? q.reject(err ?? new Error('empty reply')) : q.resolve(pos)));
    }
  }

  /** The client stopped: reject every held publish with `err`. */
  drop(err: Error): void {
    for (const q of this.take()) q.reject(err);
  }

  /** Empty the queue before settling anything, so nothing added meanwhile is lost or sent twice. */
  private take(): Queued[] {
    const queued = this.items;
    this.items = [];
    return queued;
  }
}
