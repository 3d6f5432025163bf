/**
 * The `tidings` command:
 *   tidings serve [--config FILE] [--port N] [--host H] [--engine memory|redis] [--redis-url URL]
 *   tidings token --sub USER [--channels a,b] [--ttl 1h] [--info JSON]
 *   tidings publish CHANNEL JSON [--url URL] [--api-key KEY]
 *   tidings subscribe CHANNEL [--url URL] [--token JWT | --sub USER]
 * Every command reads the same configuration as `serve` (file, TIDINGS_* env,
 * generated dev secrets), so they agree with a local gateway out of the box.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { parseDuration } from '../config/schema.js';
import { publishCommand, subscribeCommand } from './client-commands.js';
import { serveCommand } from './serve.js';
import { tokenCommand } from './token.js';

const USAGE = `usage:
  tidings serve [--config FILE] [--port N] [--host HOST] [--engine memory|redis] [--redis-url URL]
  tidings token --sub USER [--channels a,b] [--ttl 1h] [--info JSON] [--config FILE]
  tidings publish CHANNEL JSON [--url http://127.0.0.1:7070] [--api-key KEY] [--config FILE]
  tidings subscribe CHANNEL [--url ws://127.0.0.1:7070/ws] [--token JWT | --sub USER] [--config FILE]`;

const OPTIONS = {
  config: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  engine: { type: 'string' },
  'redis-url': { type: 'string' },
  sub: { type: 'string' },
  channels: { type: 'string' },
  ttl: { type: 'string' },
  info: { type: 'string' },
  url: { type: 'string' },
  'api-key': { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type CliValues = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

export function durationSeconds(v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const ms = parseDuration(/^\d+$/.test(v) ? Number(v) : v);
  if (ms === undefined) throw new Error(`--ttl: expected a duration like 30m, 1h or seconds, got ${v}`);
  return Math.round(ms / 1000);
}

export function configFor(values: CliValues) {
  const overrides: Array<[string[], unknown]> = [];
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port)) throw new Error(`--port: expected a number, got ${values.port}`);
    overrides.push([['port'], port]);
  }
  if (values.host !== undefined) overrides.push([['host'], values.host]);
  if (values.engine !== undefined) overrides.push([['engine', 'type'], values.engine]);
  if (values['redis-url'] !== undefined) overrides.push([['engine', 'redisUrl'], values['redis-url']]);
  return loadConfig({ ...(values.config ? { file: values.config } : {}), overrides });
}

export async function main(argv: string[]): Promise<number | void> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  switch (command) {
    case 'serve':
      return serveCommand(values);
    case 'token':
      return tokenCommand(values);
    case 'publish':
      return publishCommand(values, rest);
    case 'subscribe':
      return subscribeCommand(values, rest);
    default:
      console.error(`tidings: unknown command ${command}\n${USAGE}`);
      return 2;
  }
}
