/**
 * The promises of client.ready() still waiting: all settle together when the
 * client connects, or when it stops (disconnect, failure), and each on its own
 * when its timeout runs out.
 */
import { ClientErrorCode, TidingsError } from './errors.js';
import { type Timer, startTimer, stopTimer } from './timers.js';

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
  timer?: Timer;
}

export class ReadyWaiters {
  private readonly waiters = new Set<Waiter>();

  /** Resolves on settle(), rejects on settle(err), or after `timeout` ms when given. */
  wait(timeout?: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const w: Waiter = { resolve, reject };
      if (timeout !== undefined) {
        w.timer = startTimer(timeout, () => {
          this.waiters.delete(w);
          reject(new TidingsError(ClientErrorCode.Timeout, 'not connected in time', true));
        });
      }
      this.waiters.add(w);
    });
  }

  /** Connected (no `err`), or stopped with `err`. */
  settle(err?: Error): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) {
      stopTimer(w.timer);
      if (err) w.reject(err);
      else w.resolve();
    }
  }
}
