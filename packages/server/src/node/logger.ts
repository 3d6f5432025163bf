/**
 * The node's logger: JSON lines (pino). Nothing in the gateway logs a token,
 * an API key, a cookie or a message's data (test/logging.test.ts checks); as a
 * second line of defence, fields by those names are censored wherever an
 * error or a caller's object carries them.
 */
import { type DestinationStream, type Logger, pino } from 'pino';

/** Field names never written as they are, at the top level or one object down. */
const SECRET_FIELDS = ['token', 'apiKey', 'authorization', 'cookie', 'password', 'secret', 'hmacSecret', 'data', 'body', 'headers'];

export const REDACTED = '[redacted]';

export interface LoggerOptions {
  level: string;
  /** Fields on every line (the node's id). */
  base?: Record<string, unknown>;
}

export function createLogger(opts: LoggerOptions, destination?: DestinationStream): Logger {
  const paths = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`]);
  const options = { level: opts.level, redact: { paths, censor: REDACTED }, ...(opts.base ? { base: opts.base } : {}) };
  return destination ? pino(options, destination) : pino(options);
}
