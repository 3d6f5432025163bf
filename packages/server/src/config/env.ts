/**
 * The TIDINGS_* environment variables: which config field each one sets, how
 * its text is read, and a line of help. The loader and `--help` share this
 * table, so the help can never list a variable the loader ignores.
 */
import { ConfigError } from './schema.js';

export interface EnvField {
  name: string;
  /** Path in the config object; empty for variables the loader reads itself. */
  path: string[];
  read: (value: string, name: string) => unknown;
  help: string;
}

const text = (v: string) => v;

function wholeNumber(v: string, name: string): number {
  if (!/^\d+$/.test(v.trim())) throw new ConfigError(`${name}: expected a whole number, got ${JSON.stringify(v)}`);
  return Number(v);
}

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

export const ENV_FIELDS: EnvField[] = [
  { name: 'TIDINGS_CONFIG', path: [], read: text, help: 'path of the JSON config file' },
  { name: 'TIDINGS_HOST', path: ['host'], read: text, help: 'address to listen on (default 0.0.0.0; 127.0.0.1 on development secrets)' },
  { name: 'TIDINGS_PORT', path: ['port'], read: wholeNumber, help: 'port to listen on (default 7070)' },
  { name: 'TIDINGS_API_KEY', path: ['apiKey'], read: text, help: 'key for the HTTP API, at least 16 characters' },
  { name: 'TIDINGS_TOKEN_SECRET', path: ['token', 'hmacSecret'], read: text, help: 'HS256 secret that signs connection tokens, at least 32 characters' },
  { name: 'TIDINGS_TOKEN_PUBLIC_KEY', path: ['token', 'publicKey'], read: text, help: 'PEM public key for RS*/PS*/ES* tokens' },
  { name: 'TIDINGS_TOKEN_JWKS_URL', path: ['token', 'jwksUrl'], read: text, help: 'JWKS URL to fetch token keys from' },
  { name: 'TIDINGS_TOKEN_AUDIENCE', path: ['token', 'audience'], read: text, help: 'required `aud` claim' },
  { name: 'TIDINGS_TOKEN_ISSUER', path: ['token', 'issuer'], read: text, help: 'required `iss` claim' },
  { name: 'TIDINGS_HOOKS_SECRET', path: ['hooks', 'secret'], read: text, help: 'HMAC-SHA256 key that signs proxy hook requests, at least 32 characters' },
  { name: 'TIDINGS_ALLOWED_ORIGINS', path: ['client', 'allowedOrigins'], read: list, help: 'allowed Origin values, comma-separated (default any)' },
  { name: 'TIDINGS_LOG_LEVEL', path: ['log', 'level'], read: text, help: 'fatal, error, warn, info (default), debug, trace or silent' },
  { name: 'TIDINGS_ENGINE', path: ['engine', 'type'], read: text, help: 'memory (default) or redis' },
  { name: 'TIDINGS_REDIS_URL', path: ['engine', 'redisUrl'], read: text, help: 'Redis URL (default redis://127.0.0.1:6379)' },
  { name: 'TIDINGS_REDIS_CLUSTER_NODES', path: ['engine', 'redis', 'cluster'], read: list, help: 'Redis Cluster seed nodes, host:port,host:port' },
  { name: 'TIDINGS_REDIS_SENTINELS', path: ['engine', 'redis', 'sentinels'], read: list, help: 'Redis Sentinels, host:port,host:port' },
  { name: 'TIDINGS_REDIS_SENTINEL_NAME', path: ['engine', 'redis', 'name'], read: text, help: 'the primary\'s name at the sentinels (default mymaster)' },
  { name: 'TIDINGS_REDIS_PREFIX', path: ['engine', 'prefix'], read: text, help: 'Redis key prefix (default tidings:)' },
  { name: 'TIDINGS_WEBHOOK_URL', path: ['webhooks', 'url'], read: text, help: 'URL the webhooks are POSTed to (needs TIDINGS_WEBHOOK_SECRET)' },
  { name: 'TIDINGS_WEBHOOK_SECRET', path: ['webhooks', 'secret'], read: text, help: 'secret that signs the webhooks, at least 16 characters' },
  { name: 'TIDINGS_ADMIN_SECRET', path: ['admin', 'secret'], read: text, help: 'password of the /admin dashboard, at least 24 characters (unset: off)' },
  { name: 'TIDINGS_PUSHER_APP_ID', path: ['pusher', 'app', 'id'], read: text, help: 'id of one Pusher-protocol app (with _KEY and _SECRET)' },
  { name: 'TIDINGS_PUSHER_KEY', path: ['pusher', 'app', 'key'], read: text, help: 'key of that app: pusher-js connects to /app/<key>' },
  { name: 'TIDINGS_PUSHER_SECRET', path: ['pusher', 'app', 'secret'], read: text, help: 'secret of that app: signs channel auth and API requests' },
  { name: 'TIDINGS_PUSHER_WEBHOOK_URL', path: ['pusher', 'app', 'webhookUrl'], read: text, help: 'URL that app\'s Pusher-format webhooks are POSTed to' },
  { name: 'TIDINGS_DATA_DIR', path: [], read: text, help: 'folder of the generated development secrets (default: the nearest .tidings)' },
];

/** The help lines for the named variables, aligned. */
export function envHelp(names: string[]): string {
  const fields = ENV_FIELDS.filter((f) => names.includes(f.name));
  const width = Math.max(...fields.map((f) => f.name.length));
  return fields.map((f) => `  ${f.name.padEnd(width)}  ${f.help}`).join('\n');
}
