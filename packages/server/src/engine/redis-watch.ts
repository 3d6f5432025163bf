/**
 * Says in the log when the engine loses Redis and when it has it back: one
 * warn line when the first of its connections drops (publishes answer 503 and
 * /ready turns 503 meanwhile), one info line when all are ready again. The
 * connections retry by themselves; this only makes the outage visible.
 */
import type { Logger } from 'pino';

/** A Redis URL without its password, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.href.replace(/\/$/, '');
  } catch {
    return url;
  }
}

/** Anything that reports its connection going and coming: an ioredis client, or a pub/sub link's events. */
interface Watched {
  on(event: 'error', fn: (err: Error) => void): unknown;
  on(event: 'close' | 'ready', fn: () => void): unknown;
}

/** `where` names the Redis in the lines (no password); `allReady` says whether every connection is back. */
export function watchRedis(watched: Watched[], where: string, allReady: () => boolean, log: Logger | undefined): void {
  if (!log) return;
  const redis = where;
  let everUp = false;
  let down = false;
  let cause = 'connection closed';
  for (const conn of watched) {
    conn.on('error', (err: Error) => (cause = err.message || cause));
    conn.on('close', () => {
      if (!everUp || down) return;
      down = true;
      log.warn({ redis, cause }, `Redis at ${redis} unreachable (${cause}): publishes answer 503 and /ready 503 until it is back; retrying`);
    });
    conn.on('ready', () => {
      if (!allReady()) return;
      if (down) log.info({ redis }, `Redis at ${redis} reachable again`);
      everUp = true;
      down = false;
    });
  }
}
