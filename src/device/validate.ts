import { fileNameProblem, isHost, isHostKeyFingerprint, isPort, isUserName } from '../domain/rules';

/**
 * Every value the driver places into a controller command line passes through here first, so a
 * file name, host or user name can never smuggle a second command, an option or a newline into the
 * CLI. Each check throws CommandValueError naming the field.
 */

/** A value that may not be placed into a controller command line. */
export class CommandValueError extends Error {
  override readonly name = 'CommandValueError';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field} ${reason}`);
  }
}

/** An IPv4 address or DNS host name. */
export function checkHost(field: string, value: string): string {
  if (isHost(value)) return value;
  throw new CommandValueError(field, 'must be an IPv4 address or a host name');
}

/** A TCP/UDP port, 1..65535. */
export function checkPort(field: string, value: number): number {
  if (isPort(value)) return value;
  throw new CommandValueError(field, 'must be an integer port between 1 and 65535');
}

/** A login name: letters, digits, `._@-`, not starting with `-`. */
export function checkUser(field: string, value: string): string {
  if (isUserName(value)) return value;
  throw new CommandValueError(
    field,
    'must be a user name (letters, digits, ._@-, at most 64, no leading - or .)',
  );
}

/** A relative file path on the image server (the one file-name rule, src/domain/rules.ts). */
export function checkFile(field: string, value: string): string {
  const problem = fileNameProblem(value);
  if (problem === undefined) return value;
  throw new CommandValueError(field, problem);
}

/** A flash partition, 0 or 1. */
export function checkPartition(field: string, value: number): 0 | 1 {
  if (value === 0 || value === 1) return value;
  throw new CommandValueError(field, 'must be partition 0 or 1');
}

/** A host-key fingerprint as `ssh-keygen -lf` prints it: 'SHA256:<base64>'. */
export function checkFingerprint(field: string, value: string): string {
  if (isHostKeyFingerprint(value)) return value;
  throw new CommandValueError(field, "must be a host-key fingerprint 'SHA256:<base64>'");
}

/**
 * Free text for the controller's log, made safe to quote: control characters become spaces, double
 * quotes become single quotes, backslashes are dropped, and it is cut to 400 characters.
 */
export function quoteLogText(value: string): string {
  const cleaned = [...value]
    .map((ch) => (ch < ' ' || ch === '\u007f' ? ' ' : ch))
    .join('')
    .replace(/ {2,}/g, ' ')
    .replace(/"/g, "'")
    .replace(/\\/g, '')
    .trim()
    .slice(0, 400);
  if (!cleaned) throw new CommandValueError('message', 'must not be empty');
  return `"${cleaned}"`;
}
