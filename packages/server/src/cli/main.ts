/**
 * The `tidings` command: finds the subcommand, parses its options, prints
 * help, and turns every failure into a one-line message and an exit code
 * (see errors.ts). The subcommands live beside this file and never import it.
 */
import { ConfigError } from '../config/schema.js';
import { checkConfigCommand } from './check-config.js';
import { type Command, helpText } from './command.js';
import { devSecretsCommand } from './dev-secrets.js';
import { CliError, EXIT } from './errors.js';
import { parseCommandArgs } from './options.js';
import { publishCommand } from './publish.js';
import { serveCommand } from './serve.js';
import { subscribeCommand } from './subscribe.js';
import { tokenCommand } from './token.js';

const COMMANDS: Command[] = [serveCommand, publishCommand, subscribeCommand, tokenCommand, devSecretsCommand, checkConfigCommand];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.usage.length));
  return [
    'usage: tidings COMMAND [options]',
    '',
    ...COMMANDS.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    '',
    'tidings COMMAND --help shows the options, environment variables and exit codes of one command.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    console.log(topic ? helpText(topic) : usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    console.error(`tidings: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return EXIT.usage;
  }
  try {
    const { values, positionals } = parseCommandArgs(cmd.name, rest, cmd.options);
    if (values.help) {
      console.log(helpText(cmd));
      return EXIT.ok;
    }
    return await cmd.run(values, positionals);
  } catch (err) {
    return report(err);
  }
}

function report(err: unknown): number {
  if (err instanceof CliError) {
    console.error(`tidings: ${err.message}`);
    return err.exitCode;
  }
  if (err instanceof ConfigError) {
    console.error(`tidings: ${err.message}`);
    return EXIT.failed;
  }
  // Unexpected: the message is what a person can act on; the stack is for TIDINGS_DEBUG=1.
  console.error(`tidings: ${process.env.TIDINGS_DEBUG ? (err as Error)?.stack : ((err as Error)?.message ?? String(err))}`);
  return EXIT.failed;
}
