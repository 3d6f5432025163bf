/** The shape of a `tidings` subcommand, and its `--help` text built from the shared option and environment tables. */
import { envHelp } from '../config/env.js';
import { OPTIONS, type CliValues, type OptionName } from './options.js';

export interface Command {
  name: string;
  /** One line for the general usage. */
  summary: string;
  /** `tidings NAME ARGS…` without the options. */
  usage: string;
  /** Paragraphs shown under the usage. */
  description: string;
  options: readonly OptionName[];
  env: readonly string[];
  run(values: CliValues, args: string[]): Promise<number>;
}

const EXIT_HELP = `exit codes:
  0  done
  1  refused or failed (the gateway said no, invalid configuration)
  2  usage (unknown option, missing or malformed argument)
  3  unreachable or unavailable (nothing listening, Redis down, HTTP 503): worth retrying`;

export function helpText(cmd: Command): string {
  const flags = cmd.options.map((n) => {
    const [arg, ...rest] = OPTIONS[n].help.split('  ');
    const text = rest.length ? rest.join('  ') : arg;
    const name = `--${n}${rest.length ? ` ${arg}` : ''}${'short' in OPTIONS[n] ? ', -h' : ''}`;
    return [name, text!] as const;
  });
  const width = Math.max(...flags.map(([name]) => name.length));
  const lines = [
    `usage: ${cmd.usage}`,
    '',
    cmd.description,
    '',
    'options:',
    ...flags.map(([name, text]) => `  ${name.padEnd(width)}  ${text}`),
  ];
  if (cmd.env.length) lines.push('', 'environment:', envHelp([...cmd.env]));
  lines.push('', EXIT_HELP);
  return lines.join('\n');
}
