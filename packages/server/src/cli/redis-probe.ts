/**
 * Before a node starts on the Redis engine, make sure Redis answers: an
 * unreachable Redis is a start-up failure with the URL and the cause, not a
 * node that neither listens nor exits. With `--redis-wait` it retries for that
 * long, logging each attempt.
 */
import type { Logger } from 'pino';
import { type RedisTopology, describeTopology, newClient } from '../engine/redis-topology.js';
import { CliError, EXIT } from './errors.js';

const ATTEMPT_TIMEOUT_MS = 2000;
const RETRY_DELAY_MS = 1000;

/** One PING with its own short-lived client; resolves with the failure, or undefined when Redis answered. */
async function ping(topology: RedisTopology): Promise<string | undefined> {
  const redis = newClient(topology, { connectTimeout: ATTEMPT_TIMEOUT_MS, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let lastError: string | undefined;
  redis.on('error', (err: Error) => (lastError = err.message));
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (err) {
    return lastError ?? (err as Error).message;
  } finally {
    redis.disconnect();
  }
}

export async function waitForRedis(topology: RedisTopology, waitMs: number, log: Logger): Promise<void> {
  const shown = describeTopology(topology);
  const deadline = Date.now() + waitMs;
  for (let attempt = 1; ; attempt++) {
    const cause = await ping(topology);
    if (cause === undefined) return;
    if (Date.now() + RETRY_DELAY_MS > deadline) {
      throw new CliError(`cannot reach Redis at ${shown}: ${cause} (start redis-server there, or pass --redis-url; --redis-wait 30s keeps retrying)`, EXIT.unreachable);
    }
    log.warn({ redis: shown, attempt, cause }, `Redis at ${shown} unreachable (${cause}); retrying`);
    await new Promise((r) => setTimeout(r, RETRY_DELAY_MS));
  }
}
