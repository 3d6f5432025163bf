/**
 * Token refresh: renews the connection's token through `getToken` a little
 * before it expires (or when the server asks), and retries with a backoff when
 * that fails. It owns the refresh timer, the retry count and the generation
 * of the refresh in progress; the Client supplies the connection generation
 * and sends the `refresh` command, so a refresh begun on a connection that has
 * since gone is dropped instead of reaching the next one.
 */
import { type RefreshResult, backoffDelay } from '@tidings/protocol';
import { type TidingsError, isUnauthorized, toError } from './errors.js';
import { type Timer, startTimer, stopTimer } from './timers.js';

/** Retry delays for a failed token refresh, ms. */
const REFRESH_RETRY_MIN = 2_000;
const REFRESH_RETRY_MAX = 20_000;

export interface TokenRefreshHost {
  /** Bumped whenever the transport goes or an attempt starts: work from an older generation is stale. */
  generation(): number;
  /** True while commands may be sent. */
  connected(): boolean;
  /** Send the `refresh` command; `done` runs with its reply. */
  sendRefresh(token: string, done: (err: TidingsError | null, res?: RefreshResult) => void): void;
  /** getToken said the user may not stay connected: stop for good. */
  unauthorized(err: unknown): void;
  /** Any other failure, retried; for the application to see. */
  error(err: Error): void;
}

export class TokenRefresh {
  private timer: Timer | null = null;
  private attempts = 0;
  /** The generation of the refresh in progress, or -1. */
  private refreshingGen = -1;

  constructor(
    private readonly getToken: (() => string | Promise<string>) | undefined,
    private readonly host: TokenRefreshHost,
  ) {}

  /** A new session: forget earlier failures, and schedule the first refresh when the token expires. */
  start(ttl: number | undefined): void {
    this.attempts = 0;
    if (typeof ttl === 'number') this.schedule(ttl);
  }

  /** The transport went: nothing to refresh until the next session. */
  stop(): void {
    stopTimer(this.timer);
    this.timer = null;
  }

  /** Refresh now (the timer fired, or the server asked), unless one is already under way. */
  refresh(): void {
    const { getToken, host } = this;
    // A static token cannot be renewed; the server will end the connection at expiry.
    if (!getToken || !host.connected() || this.refreshingGen === host.generation()) return;
    const gen = (this.refreshingGen = host.generation());
    this.stop();
    Promise.resolve()
      .then(() => getToken())
      .then(
        (token) => {
          if (gen === host.generation()) this.send(token, gen);
        },
        (err: unknown) => {
          if (gen === host.generation()) this.onFailed(err);
        },
      );
  }

  /** Refresh a bit before expiry: at ttl minus min(10 s, ttl/3). */
  private schedule(ttl: number): void {
    const lead = Math.min(10, ttl / 3);
    this.retryIn(Math.max(0, (ttl - lead) * 1000));
  }

  private retryIn(delay: number): void {
    stopTimer(this.timer);
    this.timer = startTimer(delay, () => {
      this.timer = null;
      this.refresh();
    });
  }

  private send(token: string, gen: number): void {
    this.host.sendRefresh(token, (err, res) => {
      if (gen !== this.host.generation()) return;
      if (err) return this.onFailed(err);
      this.refreshingGen = -1;
      this.attempts = 0;
      if (typeof res?.ttl === 'number') this.schedule(res.ttl);
    });
  }

  private onFailed(err: unknown): void {
    this.refreshingGen = -1;
    if (isUnauthorized(err)) return this.host.unauthorized(err);
    this.retryIn(backoffDelay(++this.attempts, REFRESH_RETRY_MIN, REFRESH_RETRY_MAX));
    this.host.error(toError(err));
  }
}
