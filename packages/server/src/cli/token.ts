/** `tidings token`: sign a development token with the configured HMAC secret. */
import { signToken } from '../auth/sign.js';
import type { Command } from './command.js';
import { CliError, usageError } from './errors.js';
import { configFor, durationSeconds, need, parseJsonArg, tokenRequest } from './options.js';


export const tokenCommand: Command = {
  name: 'token',
  summary: 'print a connection token (JWT) signed with the local secret',
  usage: 'tidings token --sub USER',
  description: 'Signs an HS256 token with the gateway\'s token secret (configured, or the development one), for trying clients out.\nIn production your backend signs tokens: see docs/tokens.md.',
  options: ['sub', 'channels', 'ttl', 'info', 'config', 'help'],
  env: ['TIDINGS_TOKEN_SECRET', 'TIDINGS_TOKEN_AUDIENCE', 'TIDINGS_TOKEN_ISSUER', 'TIDINGS_CONFIG', 'TIDINGS_DATA_DIR'],
  async run(values) {
    if (!values.sub) throw usageError('token: --sub USER is required');
    const info = values.info === undefined ? undefined : parseJsonArg(values.info, (text) => `--info: expected JSON, got ${text}`);
    const ttlSeconds = durationSeconds(values.ttl, 3600);
    const loaded = configFor(values);
    const { token } = loaded.config;
    if (!token.hmacSecret && (token.publicKey || token.jwksUrl)) {
      throw new CliError('token: the gateway verifies tokens with a public key; sign them with your private key instead (docs/tokens.md)');
    }
    const secret = need(token.hmacSecret, 'the token secret', loaded, 'set TIDINGS_TOKEN_SECRET');
    const jwt = await signToken(secret, tokenRequest(loaded, {
      sub: values.sub,
      ttlSeconds,
      ...(values.channels ? { channels: values.channels.split(',').map((c) => c.trim()).filter(Boolean) } : {}),
      ...(info !== undefined ? { info } : {}),
    }));
    process.stdout.write(`${jwt}\n`);
    return 0;
  },
};
