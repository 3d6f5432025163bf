/** `tidings check-config FILE`: every problem of a config file, with its path, or "ok"; or the JSON Schema of the file. */
import { readFileSync } from 'node:fs';
import { configJsonSchema } from '../config/json-schema.js';
import { configSchema } from '../config/schema.js';
import type { Command } from './command.js';
import { CliError, EXIT, usageError } from './errors.js';

export const checkConfigCommand: Command = {
  name: 'check-config',
  summary: 'check a config file, printing every problem with its path',
  usage: 'tidings check-config FILE',
  description: [
    'Reads the JSON config file FILE and checks it against the configuration schema, without starting anything.',
    'Prints "ok", or one line per problem (`limits.maxConnections: expected number, received string`) and exits 1.',
    'Environment variables are not applied: it checks the file as written.',
    'With --json-schema it prints the JSON Schema of the file instead (docs/config.schema.json is this output).',
  ].join('\n'),
  options: ['json-schema', 'help'],
  env: [],
  async run(values, args) {
    if (values['json-schema']) {
      console.log(JSON.stringify(configJsonSchema(), null, 2));
      return EXIT.ok;
    }
    if (args.length !== 1) throw usageError('check-config: expected one FILE (see tidings check-config --help)');
    const problems = checkConfigText(readConfigFile(args[0]!));
    if (problems.length === 0) {
      console.log('ok');
      return EXIT.ok;
    }
    console.log(problems.join('\n'));
    return EXIT.failed;
  },
};

function readConfigFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.failed);
  }
}

/** Every problem of a config file's text, as `path: message` lines; none when it is valid. */
export function checkConfigText(text: string): string[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return [`(file): not valid JSON: ${(err as Error).message}`];
  }
  const result = configSchema.safeParse(raw);
  if (result.success) return [];
  return result.error.issues.flatMap((i) => {
    const at = i.path.join('.');
    // One line per unknown field, named by its own path.
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => `${at ? `${at}.` : ''}${k}: unknown field`);
    // A bad record key (a namespace name): the key's own rule says what is wrong.
    if (i.code === 'invalid_key') return [`${at || '(root)'}: invalid name: ${i.issues[0]?.message ?? i.message}`];
    return [`${at || '(root)'}: ${i.message}`];
  });
}
