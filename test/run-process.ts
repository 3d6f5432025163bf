/** Running a program to completion from a test: bounded in time, never rejects, the exit code in the answer. */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

/** The `tidings` CLI as an installed package runs it. */
export const TIDINGS_BIN = resolve(import.meta.dirname, '../packages/server/bin/tidings.js');

export interface Ran {
  /** The exit code; -1 when the program was killed (the timeout) or could not start. */
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeout?: number;
}

export function runProcess(cmd: string, args: string[], opts: RunOptions = {}): Promise<Ran> {
  return new Promise((done) =>
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeout ?? 20_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      done({ code: typeof code === 'number' ? code : -1, stdout, stderr });
    }),
  );
}

/** `tidings <args>` in a child Node process. */
export function runCli(args: string[], opts: RunOptions = {}): Promise<Ran> {
  return runProcess(process.execPath, [TIDINGS_BIN, ...args], opts);
}
