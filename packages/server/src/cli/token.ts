/** `tidings token`: sign a development token with the configured HMAC secret. */
import { signToken } from '../auth/sign.js';
import { type CliValues, configFor, durationSeconds } from './main.js';

export async function tokenCommand(values: CliValues): Promise<number> {
  if (!values.sub) throw new Error('token: --sub USER is required');
  const { config } = configFor(values);
  const secret = config.token.hmacSecret;
  if (!secret) throw new Error('token: the gateway verifies tokens with a public key; sign them with your private key instead');
  const info = values.info === undefined ? undefined : (JSON.parse(values.info) as unknown);
  const token = await signToken(secret, {
    sub: values.sub,
    ttlSeconds: durationSeconds(values.ttl, 3600),
    ...(values.channels ? { channels: values.channels.split(',').map((c) => c.trim()).filter(Boolean) } : {}),
    ...(info !== undefined ? { info } : {}),
    ...(config.token.audience ? { audience: config.token.audience } : {}),
    ...(config.token.issuer ? { issuer: config.token.issuer } : {}),
  });
  process.stdout.write(`${token}\n`);
  return 0;
}
