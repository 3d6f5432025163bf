/**
 * Generated development secrets: `.tidings/dev-secrets.json`, found in the
 * working directory or the nearest parent that has one (so the CLI agrees
 * with a gateway started at the project's root from any subdirectory), or
 * exactly in TIDINGS_DATA_DIR when that is set.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from './schema.js';

export interface DevSecrets {
  hmacSecret: string;
  apiKey: string;
}

export const DEV_SECRETS_NAME = 'dev-secrets.json';

/** The dev secrets file to use: in `dataDir` when given, else the nearest `.tidings/` from `cwd` upward. */
export function findDevSecrets(cwd: string, dataDir: string | undefined): string | undefined {
  if (dataDir !== undefined) {
    const file = resolve(cwd, dataDir, DEV_SECRETS_NAME);
    return existsSync(file) ? file : undefined;
  }
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const file = join(dir, '.tidings', DEV_SECRETS_NAME);
    if (existsSync(file)) return file;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Where a new file goes when none is found. */
export function newDevSecretsFile(cwd: string, dataDir: string | undefined): string {
  return resolve(cwd, dataDir ?? '.tidings', DEV_SECRETS_NAME);
}

export function readDevSecrets(file: string): DevSecrets {
  let parsed: Partial<DevSecrets>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<DevSecrets>;
  } catch (err) {
    throw new ConfigError(`cannot read development secrets ${file}: ${(err as Error).message} (delete the file to generate new ones)`);
  }
  if (typeof parsed.hmacSecret !== 'string' || typeof parsed.apiKey !== 'string') {
    throw new ConfigError(`development secrets ${file} lack hmacSecret or apiKey (delete the file to generate new ones)`);
  }
  return { hmacSecret: parsed.hmacSecret, apiKey: parsed.apiKey };
}

export function createDevSecrets(file: string): DevSecrets {
  const secrets = { hmacSecret: randomBytes(32).toString('base64url'), apiKey: randomBytes(24).toString('base64url') };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
  return secrets;
}
