/**
 * Plain counters a node's connections bump as things happen, read by
 * /metrics when scraped. Each key set is bounded by code, not by clients:
 * transports and codes are fixed lists, and a client's own close code is
 * folded into a few values.
 */

/** Close codes a client may send that are worth their own label; others count as `other`. */
const CLIENT_CODES = new Set([1000, 1001, 1005, 1006]);

export class NodeCounters {
  /** Frames refused by the command rate limit (error 111 or a dropped pong). */
  rateLimited = 0;
  /** Subscriptions that asked to recover, by outcome. */
  recovered = 0;
  recoveryFailed = 0;
  /** Refused connection attempts: `transport code` → count (HTTP status, or close code before `connect` succeeded). */
  readonly refusals = new Map<string, number>();
  /** Ends of connected sessions: `transport code` → count. */
  readonly disconnects = new Map<string, number>();

  refused(transport: string, code: number): void {
    bump(this.refusals, `${transport} ${code}`);
  }

  /** A connected session ended: with the server's close code, the client's, or `closed` when the client just went away. */
  disconnected(transport: string, code: number | undefined, byServer: boolean): void {
    bump(this.disconnects, `${transport} ${label(code, byServer)}`);
  }
}

function label(code: number | undefined, byServer: boolean): string {
  if (code === undefined) return 'closed';
  if (byServer || CLIENT_CODES.has(code)) return String(code);
  return 'other';
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
