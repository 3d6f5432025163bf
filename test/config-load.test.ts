/**
 * loadConfig and the development secrets: both secrets missing → generated
 * dev secrets; exactly one configured → a node refuses to start, so a cluster
 * with one variable forgotten does not run each node on its own generated key.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@tidings/server';

const API_KEY = 'config-test-api-key-0123456789';
const SECRET = 'config-test-token-secret-0123456789-abcdef';
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'tidings-config-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('loadConfig and development secrets', () => {
  it('both configured: uses them, no dev file', () => {
    const dir = tmp();
    const loaded = loadConfig({ env: { TIDINGS_API_KEY: API_KEY, TIDINGS_TOKEN_SECRET: SECRET }, dataDir: dir, cwd: dir });
    expect(loaded.config.apiKey).toBe(API_KEY);
    expect(loaded.config.token.hmacSecret).toBe(SECRET);
    expect(loaded.devSecretsFile).toBeUndefined();
    expect(existsSync(join(dir, 'dev-secrets.json'))).toBe(false);
  });

  it('neither configured: generates dev secrets and listens on 127.0.0.1', () => {
    const dir = tmp();
    const loaded = loadConfig({ env: {}, dataDir: dir, cwd: dir });
    expect(loaded.devSecretsFile).toBe(join(dir, 'dev-secrets.json'));
    expect(loaded.config.apiKey).toBeTruthy();
    expect(loaded.config.token.hmacSecret).toBeTruthy();
    expect(loaded.config.host).toBe('127.0.0.1');
  });

  it('only the token secret: ConfigError naming TIDINGS_API_KEY, no dev file', () => {
    const dir = tmp();
    const load = () => loadConfig({ env: { TIDINGS_TOKEN_SECRET: SECRET }, dataDir: dir, cwd: dir });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow('TIDINGS_TOKEN_SECRET is set but TIDINGS_API_KEY');
    expect(existsSync(join(dir, 'dev-secrets.json'))).toBe(false);
  });

  it('only the API key: ConfigError naming TIDINGS_TOKEN_SECRET, no dev file', () => {
    const dir = tmp();
    const load = () => loadConfig({ env: { TIDINGS_API_KEY: API_KEY }, dataDir: dir, cwd: dir });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow('TIDINGS_API_KEY is set but TIDINGS_TOKEN_SECRET');
    expect(existsSync(join(dir, 'dev-secrets.json'))).toBe(false);
  });

  it('a public key without an API key is also half a configuration', () => {
    const dir = tmp();
    expect(() => loadConfig({ env: { TIDINGS_TOKEN_JWKS_URL: 'https://auth.example.com/jwks.json' }, dataDir: dir, cwd: dir })).toThrow(
      'TIDINGS_TOKEN_JWKS_URL is set but TIDINGS_API_KEY',
    );
  });

  it('a half that is the dev file\'s own value (an exported dev API key) still runs on the dev secrets', () => {
    const dir = tmp();
    const dev = loadConfig({ env: {}, dataDir: dir, cwd: dir });
    const again = loadConfig({ env: { TIDINGS_API_KEY: dev.config.apiKey! }, dataDir: dir, cwd: dir });
    expect(again.devSecretsFile).toBe(dev.devSecretsFile);
    expect(again.config.token.hmacSecret).toBe(dev.config.token.hmacSecret);
    // Any other value is still half a configuration, dev file or not.
    expect(() => loadConfig({ env: { TIDINGS_API_KEY: API_KEY }, dataDir: dir, cwd: dir })).toThrow('TIDINGS_API_KEY is set but TIDINGS_TOKEN_SECRET');
    expect(() => loadConfig({ env: { TIDINGS_TOKEN_SECRET: SECRET }, dataDir: dir, cwd: dir })).toThrow('TIDINGS_TOKEN_SECRET is set but TIDINGS_API_KEY');
  });

  it('client commands (devSecrets: find) still pair a configured API key with the local dev token secret', () => {
    const dir = tmp();
    const dev = loadConfig({ env: {}, dataDir: dir, cwd: dir });
    const loaded = loadConfig({ env: { TIDINGS_API_KEY: API_KEY }, dataDir: dir, cwd: dir, devSecrets: 'find' });
    expect(loaded.config.apiKey).toBe(API_KEY);
    expect(loaded.config.token.hmacSecret).toBe(dev.config.token.hmacSecret);
  });
});
