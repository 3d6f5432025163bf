/** `tidings serve`: run a gateway node until SIGTERM/SIGINT, then drain. */
import { pino } from 'pino';
import { Gateway } from '../gateway.js';
import { type CliValues, configFor } from './main.js';

export async function serveCommand(values: CliValues): Promise<number | void> {
  const { config, devSecretsFile } = configFor(values);
  const log = pino({ level: config.log.level });
  const gateway = new Gateway({ config, logger: log });
  const port = await gateway.listen();
  const shown = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  log.info({ port, host: config.host }, `tidings listening: ws://${shown}:${port}/ws, API http://${shown}:${port}/api`);
  if (devSecretsFile) {
    log.warn(`no token key or API key configured: using development secrets from ${devSecretsFile} (set TIDINGS_TOKEN_SECRET and TIDINGS_API_KEY in production)`);
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'draining');
      gateway.close().then(resolve, resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  log.info('stopped');
  return 0;
}
