import type { Credentials } from '../credentials/store';
import type { Protocol } from '../domain/types';

/** An image server as the transfer clients reach it. Secrets arrive resolved, from the credential store. */
export interface TransferEndpoint {
  protocol: Protocol;
  /** Host name or IP address. */
  host: string;
  /** Default: the protocol's well-known port (21, 22, 69, 80). */
  port?: number;
  /** Pinned SSH host key fingerprint ('SHA256:<base64>') for scp/sftp; without it, known_hosts decides. */
  hostKey?: string;
  /** Login for ftp/ftps/scp/sftp (and HTTP basic auth). Default for ftp: anonymous. */
  credentials?: Credentials;
  /** known_hosts file for scp/sftp. Default: env CIU_KNOWN_HOSTS. */
  knownHostsFile?: string;
  /** PEM CA bundle trusted for ftps. Default: env CIU_TLS_CA_FILE, else the system CAs. */
  caFile?: string;
  /** Connect / idle timeout in milliseconds. Default 15000. */
  timeoutMs?: number;
  /** Overall deadline of a header read in milliseconds, however the server paces its bytes. Default 60000. */
  deadlineMs?: number;
}

/** Options of a whole-image download. */
export interface DownloadOptions {
  /** Aborting it stops the transfer promptly with TransferError 'aborted'. */
  signal?: AbortSignal;
  /** Called as bytes arrive; `total` when the server told the size. */
  onProgress?: (bytes: number, total?: number) => void;
}

/** The first bytes of a file, and how many bytes crossed the wire to get them. */
export interface HeaderRead {
  bytes: Buffer;
  bytesTransferred: number;
}

/** One protocol's client. */
export interface ProtocolClient {
  readHeader(
    endpoint: TransferEndpoint,
    path: string,
    maxBytes: number,
    signal?: AbortSignal,
  ): Promise<HeaderRead>;
  download(
    endpoint: TransferEndpoint,
    path: string,
    destFile: string,
    opts: DownloadOptions,
  ): Promise<{ bytes: number }>;
}

const defaultPorts: Record<Protocol, number> = { ftp: 21, ftps: 21, scp: 22, sftp: 22, tftp: 69, http: 80 };

export const DEFAULT_TIMEOUT_MS = 15_000;

export const DEFAULT_HEADER_DEADLINE_MS = 60_000;

/** The port to use for an endpoint. */
export function portOf(endpoint: TransferEndpoint): number {
  return endpoint.port ?? defaultPorts[endpoint.protocol];
}

/** 'host:port' with IPv6 brackets, for messages. */
export function hostPort(endpoint: Pick<TransferEndpoint, 'host' | 'protocol' | 'port'>): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${host}:${portOf(endpoint as TransferEndpoint)}`;
}

/** 'proto://host:port/path' for messages (never with credentials). */
export function describeLocation(endpoint: TransferEndpoint, path?: string): string {
  const base = `${endpoint.protocol}://${hostPort(endpoint)}`;
  return path === undefined ? base : `${base}/${path.replace(/^\/+/, '')}`;
}
