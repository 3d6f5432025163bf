/** `tidings dev-secrets`: print the development API key and token secret the local gateway runs on. */
import type { Command } from './command.js';
import { usageError } from './errors.js';
import { configFor, need } from './options.js';

const FIELDS = ['api-key', 'token-secret', 'file'] as const;

export const devSecretsCommand: Command = {
  name: 'dev-secrets',
  summary: 'print the development API key and token secret',
  usage: 'tidings dev-secrets [api-key|token-secret|file]',
  description: [
    'Prints the secrets a gateway started with no configuration generated into .tidings/dev-secrets.json',
    '(found in this directory or the nearest parent that has one). With a field name, prints only that',
    'field, for scripts:  export TIDINGS_API_KEY=$(npx tidings dev-secrets api-key)',
  ].join('\n'),
  options: ['config', 'help'],
  env: ['TIDINGS_DATA_DIR', 'TIDINGS_CONFIG', 'TIDINGS_API_KEY', 'TIDINGS_TOKEN_SECRET'],
  async run(values, args) {
    const [field, extra] = args;
    if (extra !== undefined || (field !== undefined && !(FIELDS as readonly string[]).includes(field))) {
      throw usageError(`dev-secrets: expected one of ${FIELDS.join(', ')}, got ${args.join(' ')}`);
    }
    const loaded = configFor(values);
    const hint = 'set TIDINGS_API_KEY and TIDINGS_TOKEN_SECRET';
    const apiKey = need(loaded.config.apiKey, 'the API key', loaded, hint);
    const secret = loaded.config.token.hmacSecret ?? '(none: tokens are verified with a public key)';
    const file = loaded.devSecretsFile ?? '(none: the secrets are configured)';
    const shown = { 'api-key': apiKey, 'token-secret': secret, file };
    if (field) process.stdout.write(`${shown[field as (typeof FIELDS)[number]]}\n`);
    else process.stdout.write(FIELDS.map((f) => `${f}: ${shown[f]}`).join('\n') + '\n');
    return 0;
  },
};
