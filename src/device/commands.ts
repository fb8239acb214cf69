import { defaultPorts, type DialectSpec } from '../domain/dialects';
import { loginProtocols, type Protocol } from '../domain/rules';
import {
  CommandValueError,
  checkFile,
  checkFingerprint,
  checkHost,
  checkPartition,
  checkPort,
  checkUser,
  quoteLogText,
} from './validate';

/**
 * Builders for the controller CLI. Each returns one command line built only from validated values.
 * ArubaOS 6.x/8.x documents every command here except the capability commands (`show image checksum`,
 * `logging message`), which the driver sends only to a controller that advertises them, and the
 * `port`/`host-key` clauses of `copy`, which only the `arubaos-ext` dialect has.
 */

/** What `copy <protocol>: … system: partition <n>` fetches, and from where. */
export interface CopyRequest {
  protocol: Protocol;
  host: string;
  /** Omitted: the protocol's well-known port. */
  port?: number;
  /** Required for ftp/ftps/scp/sftp; optional for http. */
  user?: string;
  file: string;
  partition: 0 | 1;
  /** Pinned image-server host key for scp/sftp ('SHA256:<base64>'), sent only where the dialect has the clause. */
  hostKey?: string;
}

export const showVersion = (): string => 'show version';
export const showImageVersion = (): string => 'show image version';
export const showSwitches = (): string => 'show switches';
/** The dialect's free-flash command (ArubaOS `show storage`). */
export const showStorage = (dialect: DialectSpec): string => dialect.storage.command;

/** The dialect's own health view after a reboot (ArubaOS `show switches`). */
export const showHealth = (dialect: DialectSpec): string => dialect.health.command;

/** Capability `image-sha256`: the SHA-256 of a partition's image payload. */
export function showImageChecksum(partition: number): string {
  return `show image checksum partition ${checkPartition('partition', partition)}`;
}

export function bootSystemPartition(partition: number): string {
  return `boot system partition ${checkPartition('partition', partition)}`;
}

export const reload = (): string => 'reload';

/** `show log system <n>`: the last n lines of the controller's own log. */
export function showLog(lines: number): string {
  if (!Number.isInteger(lines) || lines < 1 || lines > 10_000)
    throw new CommandValueError('lines', 'must be an integer between 1 and 10000');
  return `show log system ${lines}`;
}

export type LogLevel = 'error' | 'warning' | 'info';

/** Capability `log-message`: `logging message <level> "<text>"` writes one line into the controller's log. */
export function logMessage(level: LogLevel, text: string): string {
  if (level !== 'error' && level !== 'warning' && level !== 'info')
    throw new CommandValueError('level', 'must be error, warning or info');
  return `logging message ${level} ${quoteLogText(text)}`;
}

/**
 * `copy <protocol>: <host> [<user>] <file> system: partition <n>`, plus `port <p>` and
 * `host-key <fp>` where the dialect has those clauses. A dialect without a port clause refuses a
 * non-default port rather than silently fetching from another one.
 */
export function copyImage(request: CopyRequest, dialect: DialectSpec): string {
  if (!dialect.protocols.includes(request.protocol))
    throw new CommandValueError('protocol', `must be one of ${dialect.protocols.join(', ')}`);
  const words = [`copy ${request.protocol}:`, checkHost('server.host', request.host)];
  if (request.user !== undefined) words.push(checkUser('user', request.user));
  else if (loginProtocols.includes(request.protocol))
    throw new CommandValueError('user', `is required for ${request.protocol}`);
  words.push(checkFile('imageFile', request.file), 'system:', 'partition');
  words.push(String(checkPartition('partition', request.partition)));
  if (request.port !== undefined) {
    const port = checkPort('server.port', request.port);
    if (dialect.serverPort) words.push('port', String(port));
    else if (port !== defaultPorts[request.protocol])
      throw new CommandValueError(
        'server.port',
        `must be ${defaultPorts[request.protocol]}: the controller's copy command has no port clause`,
      );
  }
  if (request.hostKey !== undefined && dialect.serverHostKey)
    words.push('host-key', checkFingerprint('server.hostKey', request.hostKey));
  return words.join(' ');
}
