/**
 * Login attempts per source address, in fixed windows. The table holds at
 * most MAX_ADDRESSES addresses; when it is full, new addresses are refused
 * until the window ends (failing closed: an attacker with many addresses can
 * delay logins for one window, never guess faster).
 */
const MAX_ADDRESSES = 10_000;

export class LoginLimit {
  private readonly attempts = new Map<string, number>();
  private windowEnds = 0;

  constructor(
    private readonly perWindow: number,
    private readonly windowMs: number,
  ) {}

  /** Count one attempt from `address`; false when it is over the limit. */
  admit(address: string, now = Date.now()): boolean {
    if (now >= this.windowEnds) {
      this.attempts.clear();
      this.windowEnds = now + this.windowMs;
    }
    const n = this.attempts.get(address) ?? 0;
    if (n === 0 && this.attempts.size >= MAX_ADDRESSES) return false;
    if (n >= this.perWindow) return false;
    this.attempts.set(address, n + 1);
    return true;
  }

  /** Seconds until the window ends (the Retry-After of a 429). */
  retryAfter(now = Date.now()): number {
    return Math.max(1, Math.ceil((this.windowEnds - now) / 1000));
  }
}
