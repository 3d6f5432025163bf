/**
 * The ping watchdog. The server pings every `ping` s and waits up to `pong` s
 * for the answer before the next interval starts, so frames can be ping+pong
 * apart on an idle connection; beyond that plus `maxServerPingDelay` the link
 * is dead, however open the socket looks.
 */
import { type Timer, startTimer, stopTimer } from './timers.js';

export class PingWatch {
  private timer: Timer | null = null;
  private lastFrameAt = 0;

  /** `dead` runs once the link has been silent too long; `maxDelay`: the slack in ms. */
  constructor(
    private readonly maxDelay: number,
    private readonly dead: () => void,
  ) {}

  /** Any frame, readable or not, shows the link is alive. Runs for every frame, so it only notes the time. */
  frameArrived(): void {
    this.lastFrameAt = Date.now();
  }

  /** A fresh session with the server's `ping` and `pong` periods, s; no watch when `ping` is 0. */
  start(ping: number, pong: number): void {
    this.lastFrameAt = Date.now();
    this.arm(ping, pong);
  }

  stop(): void {
    stopTimer(this.timer);
    this.timer = null;
  }

  private arm(ping: number, pong: number): void {
    this.stop();
    if (!(ping > 0)) return;
    const limit = (ping + Math.max(0, pong || 0)) * 1000 + this.maxDelay;
    this.timer = startTimer(Math.max(0, this.lastFrameAt + limit - Date.now()), () => {
      this.timer = null;
      if (Date.now() - this.lastFrameAt >= limit) this.dead();
      else this.arm(ping, pong);
    });
  }
}
