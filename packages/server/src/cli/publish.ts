/** `tidings publish`: one publication through the gateway's HTTP API. */
import type { Command } from './command.js';
import { CliError, EXIT, networkCause, usageError } from './errors.js';
import { configFor, gatewayUrl, need, parseJsonArg } from './options.js';

const parseData = (json: string) => parseJsonArg(json, (text) => `publish: ${text} is not valid JSON (quote strings: '"hello"')`);

export const publishCommand: Command = {
  name: 'publish',
  summary: 'publish JSON to a channel through the HTTP API',
  usage: 'tidings publish CHANNEL JSON',
  description: 'POSTs {channel, data} to /api/publish of the local gateway (or --url) and prints {offset, epoch}.',
  options: ['url', 'api-key', 'port', 'host', 'config', 'help'],
  env: ['TIDINGS_API_KEY', 'TIDINGS_PORT', 'TIDINGS_HOST', 'TIDINGS_CONFIG', 'TIDINGS_DATA_DIR'],
  async run(values, args) {
    const [channel, json, extra] = args;
    if (!channel || json === undefined || extra !== undefined) throw usageError('publish: expected CHANNEL JSON, for example: tidings publish news \'{"hello": "world"}\'');
    const data = parseData(json);
    const loaded = configFor(values);
    const apiKey = values['api-key'] ?? need(loaded.config.apiKey, 'the API key', loaded, 'pass --api-key or set TIDINGS_API_KEY');
    const url = new URL('/api/publish', gatewayUrl(values, loaded, 'http'));
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `apikey ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ channel, data }),
      });
    } catch (err) {
      throw new CliError(`publish: cannot reach the gateway at ${url.origin}: ${networkCause(err)}`, EXIT.unreachable);
    }
    const text = await res.text();
    if (!res.ok) {
      const hint = res.status === 401 && !values['api-key'] ? ` (the key came from ${loaded.devSecretsFile ?? 'TIDINGS_API_KEY or the config'}; is the gateway using the same?)` : '';
      throw new CliError(`publish: ${url.href} answered HTTP ${res.status} ${text}${hint}`, res.status === 503 ? EXIT.unreachable : EXIT.failed);
    }
    process.stdout.write(`${text}\n`);
    return EXIT.ok;
  },
};
