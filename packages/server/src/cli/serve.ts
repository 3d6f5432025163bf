/** `tidings serve`: run a gateway node until SIGTERM/SIGINT, then drain. */
import { Gateway } from '../gateway.js';
import { createLogger } from '../node/logger.js';
import type { Command } from './command.js';
import { CliError, EXIT } from './errors.js';
import { configFor, durationSeconds, localHost } from './options.js';
import { redisTopology } from '../engine/redis-topology.js';
import { waitForRedis } from './redis-probe.js';
import { setHeapGrowth, setTierUpBudget, turnOffPretenuring } from './v8-settings.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run a gateway node',
  usage: 'tidings serve',
  description: [
    'Runs a node: WebSocket at /ws, SSE at /sse, the HTTP API at /api, /health, /ready, /metrics, and a status page at /.',
    'With no token key and no API key configured it generates development secrets into .tidings/dev-secrets.json',
    '(print them with `tidings dev-secrets`) and listens on 127.0.0.1 only, unless --host or TIDINGS_HOST says otherwise.',
    'SIGTERM or SIGINT drains the node (clients are told to reconnect elsewhere) and exits 0.',
  ].join('\n'),
  options: ['config', 'port', 'host', 'engine', 'redis-url', 'redis-wait', 'help'],
  env: [
    'TIDINGS_CONFIG', 'TIDINGS_PORT', 'TIDINGS_HOST', 'TIDINGS_API_KEY', 'TIDINGS_TOKEN_SECRET', 'TIDINGS_TOKEN_PUBLIC_KEY',
    'TIDINGS_TOKEN_JWKS_URL', 'TIDINGS_TOKEN_AUDIENCE', 'TIDINGS_TOKEN_ISSUER', 'TIDINGS_ALLOWED_ORIGINS', 'TIDINGS_LOG_LEVEL',
    'TIDINGS_ENGINE', 'TIDINGS_REDIS_URL', 'TIDINGS_REDIS_CLUSTER_NODES', 'TIDINGS_REDIS_SENTINELS', 'TIDINGS_REDIS_SENTINEL_NAME',
    'TIDINGS_REDIS_PREFIX', 'TIDINGS_DATA_DIR', 'TIDINGS_HOOKS_SECRET',
  ],
  async run(values) {
    setHeapGrowth();
    turnOffPretenuring();
    setTierUpBudget();
    const waitMs = durationSeconds(values['redis-wait'], 0, '--redis-wait') * 1000;
    const { config, devSecretsFile, loopbackOnly } = configFor(values, 'create');
    const log = createLogger({ level: config.log.level });
    if (config.engine.type === 'redis') await waitForRedis(redisTopology(config), waitMs, log);
    const gateway = new Gateway({ config, logger: log });
    let port: number;
    try {
      port = await gateway.listen();
    } catch (err) {
      await gateway.close().catch(() => {});
      const e = err as NodeJS.ErrnoException;
      const where = `${config.host}:${config.port}`;
      if (e.code === 'EADDRINUSE') throw new CliError(`cannot listen on ${where}: the port is in use (pass --port)`, EXIT.failed);
      throw new CliError(`cannot start on ${where}: ${e.message}`, EXIT.failed);
    }
    const shown = localHost(config.host);
    // The notes first: whoever waits for the "listening" line has read them too.
    if (devSecretsFile) {
      log.warn(
        `no token key or API key configured: using development secrets from ${devSecretsFile}; print the API key with \`npx tidings dev-secrets api-key\` (set TIDINGS_TOKEN_SECRET and TIDINGS_API_KEY in production)`,
      );
    }
    if (loopbackOnly) log.warn('listening on 127.0.0.1 only, because the node runs on development secrets (pass --host 0.0.0.0 to listen on every interface)');
    log.info({ port, host: config.host }, `tidings listening: http://${shown}:${port}/ (WebSocket ws://${shown}:${port}/ws, API http://${shown}:${port}/api)`);
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        log.info({ signal }, 'draining');
        gateway.close().then(resolve, resolve);
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    log.info('stopped');
    return EXIT.ok;
  },
};
