/**
 * Where configuration comes from, lowest to highest precedence: defaults, the
 * JSON file (`--config` or TIDINGS_CONFIG), TIDINGS_* environment variables,
 * command-line flags. With no token key and no API key configured, a dev key
 * pair is generated once into `.tidings/dev-secrets.json`, so a newcomer's
 * gateway, `tidings token` and `tidings publish` agree without any set-up.
 * With only one of the two configured, a node refuses to start (ConfigError).
 */
import { readFileSync } from 'node:fs';
import { createDevSecrets, findDevSecrets, newDevSecretsFile, readDevSecrets } from './dev-secrets.js';
import { ENV_FIELDS } from './env.js';
import { type Config, ConfigError, parseConfig } from './schema.js';

type Raw = Record<string, unknown>;

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
  /** Values from command-line flags, as config paths, with the flag's name for error messages. */
  overrides?: Array<[string[], unknown, string?]>;
  /** Folder for generated dev secrets; default TIDINGS_DATA_DIR, else the nearest `.tidings` from `cwd` upward. */
  dataDir?: string;
  /** Where the search for `.tidings` starts; default the working directory. */
  cwd?: string;
  /** `create` (default): generate dev secrets when none exist. `find`: use existing ones only. */
  devSecrets?: 'create' | 'find';
}

export interface LoadedConfig {
  config: Config;
  /** Set when secrets came from the generated dev file (warn the operator). */
  devSecretsFile?: string;
  /** Set when dev secrets were needed, not found, and not created (`devSecrets: 'find'`): where the search looked. */
  devSecretsMissing?: string;
  /** True when the host defaulted to 127.0.0.1 because the node runs on dev secrets. */
  loopbackOnly?: boolean;
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.TIDINGS_CONFIG;
  const raw: Raw = file ? readFile(file) : {};
  const sources = new Map<string, string>();
  for (const { name, path, read } of ENV_FIELDS) {
    const v = env[name];
    if (path.length === 0 || v === undefined || v === '') continue;
    setPath(raw, path, read(v, name));
    sources.set(path.join('.'), name);
  }
  for (const [path, value, label] of opts.overrides ?? []) {
    setPath(raw, path, value);
    if (label) sources.set(path.join('.'), label);
  }
  const hostGiven = raw.host !== undefined;
  const parsed = parseConfig(raw, sources);
  const token = parsed.token;
  const hasKey = Boolean(token.hmacSecret || token.publicKey || token.jwksUrl);
  if (hasKey && parsed.apiKey) return { config: parsed as Config };

  const cwd = opts.cwd ?? process.cwd();
  const dataDir = opts.dataDir ?? (env.TIDINGS_DATA_DIR || undefined);
  let devFile = findDevSecrets(cwd, dataDir);
  // Half a configuration on a node is a mistake, not a dev set-up: filling the
  // other half from a generated file would give every node of a cluster its own.
  // Allowed: the half that is set is the local dev file's own value (a shell that
  // ran `export TIDINGS_API_KEY=$(npx tidings dev-secrets api-key)`), and client
  // commands (`devSecrets: 'find'`), which only read a local gateway's file.
  if ((hasKey || parsed.apiKey) && opts.devSecrets !== 'find') {
    const existing = devFile ? readDevSecrets(devFile) : undefined;
    const fromDevFile = existing && (hasKey ? token.hmacSecret === existing.hmacSecret : parsed.apiKey === existing.apiKey);
    if (!fromDevFile) {
      const keySource = sources.get('token.hmacSecret') ?? sources.get('token.publicKey') ?? sources.get('token.jwksUrl') ?? 'the token key (config file)';
      throw new ConfigError(
        hasKey
          ? `${keySource} is set but TIDINGS_API_KEY (or apiKey in the config file) is not: set both, or neither for development secrets`
          : `${sources.get('apiKey') ?? 'apiKey (config file)'} is set but TIDINGS_TOKEN_SECRET (or TIDINGS_TOKEN_PUBLIC_KEY, TIDINGS_TOKEN_JWKS_URL, token.* in the config file) is not: set both, or neither for development secrets`,
      );
    }
  }
  if (!devFile && opts.devSecrets === 'find') {
    const where = dataDir !== undefined ? newDevSecretsFile(cwd, dataDir) : `.tidings/dev-secrets.json in ${cwd} and its parents`;
    return { config: parsed as Config, devSecretsMissing: where };
  }
  const dev = devFile ? readDevSecrets(devFile) : createDevSecrets((devFile = newDevSecretsFile(cwd, dataDir)));
  if (!hasKey) token.hmacSecret = dev.hmacSecret;
  parsed.apiKey ??= dev.apiKey;
  // A node on secrets anyone can read from disk should not face the network unless told to.
  if (!hostGiven) parsed.host = '127.0.0.1';
  parsed.landing.devNotice = true;
  return { config: parsed as Config, devSecretsFile: devFile, loopbackOnly: !hostGiven };
}

/** Build a full config from a partial object (tests and embedding). Requires keys. */
export function makeConfig(input: Raw): Config {
  const parsed = parseConfig(input);
  if (!parsed.apiKey) throw new ConfigError('apiKey: required');
  return parsed as Config;
}
