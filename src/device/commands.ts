import { loginProtocols, protocols, type Protocol } from '../domain/rules';
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
 * Builders for the ArubaOS-style controller CLI. Each returns one command line built only from
 * validated values. Extensions beyond ArubaOS (documented in /tmp/ciu-notes/device-api.md):
 * `port <n>` and `host-key <fingerprint>` suffixes on `copy`, `show image checksum partition <n>`,
 * and `logging message <level> "<text>"`.
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
  /** Pinned image-server host key for scp/sftp ('SHA256:<base64>'). */
  hostKey?: string;
}

export const showVersion = (): string => 'show version';
export const showImageVersion = (): string => 'show image version';

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

/** `logging message <level> "<text>"`: writes one line into the controller's own log. */
export function logMessage(level: LogLevel, text: string): string {
  if (level !== 'error' && level !== 'warning' && level !== 'info')
    throw new CommandValueError('level', 'must be error, warning or info');
  return `logging message ${level} ${quoteLogText(text)}`;
}

/** `copy <protocol>: <host> [<user>] <file> system: partition <n> [port <p>] [host-key <fp>]`. */
export function copyImage(request: CopyRequest): string {
  if (!protocols.includes(request.protocol))
    throw new CommandValueError('protocol', `must be one of ${protocols.join(', ')}`);
  const words = [`copy ${request.protocol}:`, checkHost('server.host', request.host)];
  if (request.user !== undefined) words.push(checkUser('user', request.user));
  else if (loginProtocols.includes(request.protocol))
    throw new CommandValueError('user', `is required for ${request.protocol}`);
  words.push(checkFile('imageFile', request.file), 'system:', 'partition');
  words.push(String(checkPartition('partition', request.partition)));
  if (request.port !== undefined) words.push('port', String(checkPort('server.port', request.port)));
  if (request.hostKey !== undefined)
    words.push('host-key', checkFingerprint('server.hostKey', request.hostKey));
  return words.join(' ');
}
