/**
 * Where configuration comes from, lowest to highest precedence: defaults, the
 * JSON file (`--config` or TIDINGS_CONFIG), TIDINGS_* environment variables,
 * command-line flags. With no token key and no API key configured, a dev key
 * pair is generated once into `.tidings/dev-secrets.json`, so a newcomer's
 * gateway, `tidings token` and `tidings publish` agree without any set-up.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type Config, ConfigError, parseConfig } from './schema.js';

type Raw = Record<string, unknown>;

/** TIDINGS_* variable → path in the config object, and how to read its value. */
const ENV_FIELDS: Array<[string, string[], (v: string) => unknown]> = [
  ['TIDINGS_HOST', ['host'], String],
  ['TIDINGS_PORT', ['port'], Number],
  ['TIDINGS_API_KEY', ['apiKey'], String],
  ['TIDINGS_TOKEN_SECRET', ['token', 'hmacSecret'], String],
  ['TIDINGS_TOKEN_PUBLIC_KEY', ['token', 'publicKey'], String],
  ['TIDINGS_TOKEN_JWKS_URL', ['token', 'jwksUrl'], String],
  ['TIDINGS_TOKEN_AUDIENCE', ['token', 'audience'], String],
  ['TIDINGS_TOKEN_ISSUER', ['token', 'issuer'], String],
  ['TIDINGS_ALLOWED_ORIGINS', ['client', 'allowedOrigins'], (v) => v.split(',').map((s) => s.trim()).filter(Boolean)],
  ['TIDINGS_LOG_LEVEL', ['log', 'level'], String],
  ['TIDINGS_ENGINE', ['engine', 'type'], String],
  ['TIDINGS_REDIS_URL', ['engine', 'redisUrl'], String],
  ['TIDINGS_REDIS_PREFIX', ['engine', 'prefix'], String],
];

function setPath(obj: Raw, path: string[], value: unknown): void {
  let cur = obj;
  for (const key of path.slice(0, -1)) {
    const next = cur[key];
    if (typeof next !== 'object' || next === null) cur[key] = {};
    cur = cur[key] as Raw;
  }
  cur[path[path.length - 1]!] = value;
}

function readFile(file: string): Raw {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  try {
    const raw = JSON.parse(text) as unknown;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('not a JSON object');
    return raw as Raw;
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, as config paths. */
  overrides?: Array<[string[], unknown]>;
  /** Folder for generated dev secrets; default `.tidings` in the working directory. */
  dataDir?: string;
}

interface DevSecrets {
  hmacSecret: string;
  apiKey: string;
}

function devSecrets(dataDir: string): DevSecrets {
  const file = resolve(dataDir, 'dev-secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevSecrets;
  const secrets = { hmacSecret: randomBytes(32).toString('base64url'), apiKey: randomBytes(24).toString('base64url') };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
  return secrets;
}

export interface LoadedConfig {
  config: Config;
  /** Set when secrets came from the generated dev file (warn the operator). */
  devSecretsFile?: string;
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.TIDINGS_CONFIG;
  const raw: Raw = file ? readFile(file) : {};
  for (const [name, path, read] of ENV_FIELDS) {
    const v = env[name];
    if (v !== undefined && v !== '') setPath(raw, path, read(v));
  }
  for (const [path, value] of opts.overrides ?? []) setPath(raw, path, value);
  const parsed = parseConfig(raw);
  const token = parsed.token;
  const hasKey = Boolean(token.hmacSecret || token.publicKey || token.jwksUrl);
  if (hasKey && parsed.apiKey) return { config: parsed as Config };
  const dataDir = opts.dataDir ?? resolve(env.TIDINGS_DATA_DIR ?? '.tidings');
  const dev = devSecrets(dataDir);
  if (!hasKey) token.hmacSecret = dev.hmacSecret;
  parsed.apiKey ??= dev.apiKey;
  return { config: parsed as Config, devSecretsFile: resolve(dataDir, 'dev-secrets.json') };
}

/** Build a full config from a partial object (tests and embedding). Requires keys. */
export function makeConfig(input: Raw): Config {
  const parsed = parseConfig(input);
  if (!parsed.apiKey) throw new ConfigError('apiKey: required');
  return parsed as Config;
}
