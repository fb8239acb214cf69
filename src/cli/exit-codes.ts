/**
 * What `ciu` exit codes mean, so scripts can branch on them:
 *   0  done
 *   1  runtime failure (Temporal unreachable, a workflow call failed, a server did not start)
 *   2  usage or validation error (bad arguments, staged config refused by `write memory`)
 *   3  the campaign failed its image verification or has failed controllers (`show upgrade status --exit-status`)
 *   4  the campaign or workflow does not exist
 */
export const exitCodes = {
  ok: 0,
  failure: 1,
  usage: 2,
  failedControllers: 3,
  notFound: 4,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/** An error the CLI reports as one message and a chosen exit code (no stack trace). */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode = exitCodes.failure,
  ) {
    super(message);
  }
}

/** Bad arguments or a staged config that does not validate; `issues` name each field. */
export class UsageError extends CliError {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly issues: readonly string[] = [],
  ) {
    super(
      issues.length ? `${message}\n${issues.map((i) => `  - ${i}`).join('\n')}` : message,
      exitCodes.usage,
    );
  }
}
