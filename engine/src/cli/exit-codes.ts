// What the CLI's exit code means, so scripts and CI can tell a failed run from a typo or a
// refused push. Documented in docs/reference/cli.md; keep the two in step.
export const EXIT = {
  ok: 0,
  /** The operation failed: a run did not succeed, a pipeline does not validate. */
  failed: 1,
  /** The command line is wrong: unknown option, missing argument, no pulled folder. */
  usage: 2,
  /** The server refused: a pipeline changed there since the pull, an id already taken. */
  conflict: 3,
  /** No server, no login, or a token the server does not accept. */
  auth: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI prints as is (no stack) and exits with `code`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: ExitCode,
    /** Extra fields for --json output, e.g. the refused pipelines. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage);
