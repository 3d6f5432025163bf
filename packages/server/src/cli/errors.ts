/**
 * How the CLI fails. Every failure is a CliError with an exit code that
 * scripts can rely on (README and docs/cli.md list them):
 *   0 done; 1 refused or failed (the gateway said no, bad configuration);
 *   2 usage (unknown command or option, missing or malformed argument);
 *   3 unreachable or unavailable (nothing listening, Redis down, HTTP 503): worth retrying.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.failed,
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage);

/** The cause of a failed fetch or socket, in words: `ECONNREFUSED 127.0.0.1:7070` rather than `fetch failed`. */
export function networkCause(err: unknown): string {
  let e = err as { cause?: unknown; code?: string; message?: string; errors?: unknown[] } | undefined;
  while (e?.cause) e = e.cause as typeof e;
  if (e?.errors?.length) e = e.errors[0] as typeof e;
  const text = e?.message ?? String(err);
  return e?.code && !text.includes(e.code) ? `${e.code} ${text}` : text;
}
