/**
 * What every command shares: the option table (with a line of help each),
 * argument parsing, and the configuration a command reads: the same as
 * `serve` (file, TIDINGS_* env, dev secrets), so they agree with a local
 * gateway out of the box.
 */
import { parseArgs } from 'node:util';
import { type LoadedConfig, loadConfig } from '../config/load.js';
import type { TokenRequest } from '../auth/sign.js';
import { parseDuration } from '../config/schema.js';
import { usageError } from './errors.js';

export const OPTIONS = {
  config: { type: 'string', help: 'FILE  JSON config file (also TIDINGS_CONFIG)' },
  port: { type: 'string', help: 'N  port (default 7070)' },
  host: { type: 'string', help: 'HOST  address to listen on (default 0.0.0.0; 127.0.0.1 on development secrets)' },
  engine: { type: 'string', help: 'memory|redis  where channels and history live (default memory)' },
  'redis-url': { type: 'string', help: 'URL  Redis for --engine redis (default redis://127.0.0.1:6379)' },
  'redis-wait': { type: 'string', help: 'DURATION  keep retrying an unreachable Redis this long at start (default: exit at once)' },
  sub: { type: 'string', help: 'USER  the token\'s user (subject)' },
  channels: { type: 'string', help: 'a,b  channels the token grants (`channels` claim)' },
  ttl: { type: 'string', help: 'DURATION  token lifetime: 30m, 1h, or seconds (default 1h)' },
  info: { type: 'string', help: 'JSON  the token\'s `info` claim' },
  url: { type: 'string', help: 'URL  the gateway (default from the local config)' },
  'api-key': { type: 'string', help: 'KEY  the API key (default from the local config or dev secrets)' },
  token: { type: 'string', help: 'JWT  connect with this token instead of signing one' },
  'json-schema': { type: 'boolean', help: 'print the JSON Schema of the config file instead' },
  help: { type: 'boolean', short: 'h', help: 'this help' },
} as const;

export type OptionName = keyof typeof OPTIONS;
export type CliValues = { [K in OptionName]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

/** Parse `args` against the options a command takes; unknown options are usage errors. */
export function parseCommandArgs(command: string, args: string[], names: readonly OptionName[]): { values: CliValues; positionals: string[] } {
  const options = Object.fromEntries(
    names.map((n) => {
      const { type } = OPTIONS[n];
      return [n, 'short' in OPTIONS[n] ? { type, short: (OPTIONS[n] as { short: string }).short } : { type }];
    }),
  );
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: values as CliValues, positionals };
  } catch (err) {
    throw usageError(`${command}: ${(err as Error).message.split('. To specify')[0]} (see tidings ${command} --help)`);
  }
}

export function durationSeconds(v: string | undefined, fallback: number, flag = '--ttl'): number {
  if (v === undefined) return fallback;
  const ms = parseDuration(/^\d+$/.test(v) ? Number(v) : v);
  if (ms === undefined) throw usageError(`${flag}: expected a duration like 30m, 1h or seconds, got ${v}`);
  return Math.round(ms / 1000);
}

/** The configuration a command runs with. `serve` creates dev secrets; other commands only look for them. */
export function configFor(values: CliValues, devSecrets: 'create' | 'find' = 'find'): LoadedConfig {
  const overrides: Array<[string[], unknown, string]> = [];
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!/^\d+$/.test(values.port) || !Number.isInteger(port)) throw usageError(`--port: expected a number, got ${values.port}`);
    overrides.push([['port'], port, '--port']);
  }
  if (values.host !== undefined) overrides.push([['host'], values.host, '--host']);
  if (values.engine !== undefined) overrides.push([['engine', 'type'], values.engine, '--engine']);
  if (values['redis-url'] !== undefined) overrides.push([['engine', 'redisUrl'], values['redis-url'], '--redis-url']);
  return loadConfig({ ...(values.config ? { file: values.config } : {}), overrides, devSecrets });
}

/** An address a client on this machine can reach the configured listener at. */
export function localHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** Base URL of the local gateway, `http://127.0.0.1:7070`, unless `--url` says otherwise. */
export function gatewayUrl(values: CliValues, loaded: LoadedConfig, scheme: 'http' | 'ws'): string {
  return values.url ?? `${scheme}://${localHost(loaded.config.host)}:${loaded.config.port}`;
}

/** A secret a command needs, or an error that says where the CLI looked for it. */
export function need<T>(value: T | undefined, what: string, loaded: LoadedConfig, hint: string): T {
  if (value) return value;
  const where = loaded.devSecretsMissing
    ? `no development secrets found (looked for ${loaded.devSecretsMissing}); start \`tidings serve\` in the project first, or ${hint}`
    : hint;
  throw usageError(`${what} is not configured: ${where}`);
}

/** A JSON argument; a usage error (exit 2) that names it when it is not JSON. */
export function parseJsonArg(text: string, problem: (text: string) => string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw usageError(problem(text));
  }
}

/** What `signToken` needs, with the audience and issuer the gateway checks (so the token it signs is accepted). */
export function tokenRequest(loaded: LoadedConfig, req: TokenRequest): TokenRequest {
  const { audience, issuer } = loaded.config.token;
  return { ...req, ...(audience ? { audience } : {}), ...(issuer ? { issuer } : {}) };
}
