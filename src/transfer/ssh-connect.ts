import { Client, type Algorithms, type ConnectConfig } from 'ssh2';
import { settingsFromEnv } from '../settings';
import { DEFAULT_TIMEOUT_MS, describeLocation, portOf, type TransferEndpoint } from './endpoint';
import { socketError, TransferError } from './errors';
import { hostKeyVerifier } from './host-key';

/** Why an SSH connection failed before it was ready. */
export type SshConnectFailure = 'host-key' | 'auth' | 'timeout' | 'network';

/** A connection that never became ready; `kind` says why, `cause` is ssh2's own error. */
export class SshConnectError extends Error {
  override readonly name = 'SshConnectError';
  constructor(
    readonly kind: SshConnectFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Algorithms offered by default: no SHA-1 anywhere (no `ssh-rsa` host keys, no `hmac-sha1`, no
 * SHA-1 key exchange). ssh2's own defaults still offer `ssh-rsa` and `hmac-sha1`.
 */
export const modernSshAlgorithms = {
  kex: [
    'curve25519-sha256',
    'curve25519-sha256@libssh.org',
    'ecdh-sha2-nistp256',
    'ecdh-sha2-nistp384',
    'ecdh-sha2-nistp521',
    'diffie-hellman-group-exchange-sha256',
    'diffie-hellman-group14-sha256',
    'diffie-hellman-group16-sha512',
    'diffie-hellman-group18-sha512',
  ],
  serverHostKey: [
    'ssh-ed25519',
    'ecdsa-sha2-nistp256',
    'ecdsa-sha2-nistp384',
    'ecdsa-sha2-nistp521',
    'rsa-sha2-512',
    'rsa-sha2-256',
  ],
  cipher: [
    'aes128-gcm@openssh.com',
    'aes256-gcm@openssh.com',
    'chacha20-poly1305@openssh.com',
    'aes128-ctr',
    'aes192-ctr',
    'aes256-ctr',
  ],
  hmac: ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com', 'hmac-sha2-256', 'hmac-sha2-512'],
} satisfies Record<'kex' | 'serverHostKey' | 'cipher' | 'hmac', string[]>;

type AlgorithmKind = keyof typeof modernSshAlgorithms;

/** Which list each legacy algorithm an operator may re-enable belongs to. */
const legacyAlgorithms: Record<string, AlgorithmKind> = {
  'ssh-rsa': 'serverHostKey',
  'hmac-sha1': 'hmac',
  'hmac-sha1-etm@openssh.com': 'hmac',
  'diffie-hellman-group14-sha1': 'kex',
  'diffie-hellman-group-exchange-sha1': 'kex',
};

/**
 * The algorithm lists for every SSH connection ciu makes. `CIU_SSH_LEGACY_ALGORITHMS` (comma
 * separated, e.g. `ssh-rsa,hmac-sha1`) appends named legacy algorithms, last in preference, for
 * old controllers and servers that offer nothing else; an unknown name is refused.
 */
export function sshAlgorithms(env: NodeJS.ProcessEnv = process.env): Algorithms {
  const lists: Record<AlgorithmKind, string[]> = {
    kex: [...modernSshAlgorithms.kex],
    serverHostKey: [...modernSshAlgorithms.serverHostKey],
    cipher: [...modernSshAlgorithms.cipher],
    hmac: [...modernSshAlgorithms.hmac],
  };
  for (const name of settingsFromEnv(env).sshLegacyAlgorithms) {
    const kind = legacyAlgorithms[name];
    if (!kind)
      throw new Error(
        `CIU_SSH_LEGACY_ALGORITHMS: "${name}" is not one of ${Object.keys(legacyAlgorithms).join(', ')}`,
      );
    lists[kind].push(name);
  }
  return lists as Algorithms;
}

/** Where to connect and how to log in; the host key is always checked (pinned key or known_hosts). */
export interface SshConnectOptions {
  host: string;
  port: number;
  username: string;
  password?: string;
  privateKey?: string;
  /** Pinned 'SHA256:<base64>'; without it, `knownHostsFile` decides. */
  hostKey?: string;
  knownHostsFile?: string;
  /** TCP connect + handshake + login deadline. */
  readyTimeoutMs: number;
  keepaliveIntervalMs?: number;
  /** Receives the server's login banner, if it sends one. */
  onBanner?: (message: string) => void;
  /** Aborting before `ready` drops the connection and rejects with the signal's reason (an activity's cancellation). */
  signal?: AbortSignal;
}

/**
 * The one way ciu opens an SSH connection (controller CLI, scp/sftp image servers): modern
 * algorithms, host key verified, and every failure before `ready` classified as one SshConnectError.
 */
export function openSshConnection(options: SshConnectOptions): Promise<Client> {
  const verifier = hostKeyVerifier({
    host: options.host,
    port: options.port,
    hostKey: options.hostKey,
    knownHostsFile: options.knownHostsFile,
  });
  let algorithms: Algorithms;
  try {
    algorithms = sshAlgorithms();
  } catch (err) {
    return Promise.reject(err);
  }
  if (options.signal?.aborted) return Promise.reject(options.signal.reason);
  const conn = new Client();
  return new Promise((resolve, reject) => {
    let settled = false;
    const onAbort = (): void => {
      if (settled) return;
      settled = true;
      conn.destroy();
      reject(options.signal?.reason);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (): void => {
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
    };
    conn.once('ready', () => {
      settle();
      resolve(conn);
    });
    // 'on', not 'once': ssh2 may emit a second error (e.g. "Connection lost") after the first, and an
    // unheard one would crash the process. Errors after 'ready' belong to the caller's operation.
    conn.on('error', (err: Error & { level?: string }) => {
      if (settled) return;
      settle();
      conn.end();
      const refused = verifier.rejection();
      if (refused) return reject(new SshConnectError('host-key', refused, { cause: err }));
      if (err.level === 'client-authentication')
        return reject(new SshConnectError('auth', 'login refused', { cause: err }));
      if (err.level === 'client-timeout')
        return reject(new SshConnectError('timeout', 'SSH handshake not completed in time', { cause: err }));
      reject(new SshConnectError('network', err.message, { cause: err }));
    });
    if (options.onBanner) conn.on('banner', options.onBanner);
    const config: ConnectConfig = {
      host: options.host,
      port: options.port,
      username: options.username,
      password: options.password,
      privateKey: options.privateKey,
      hostVerifier: verifier.hostVerifier,
      readyTimeout: options.readyTimeoutMs,
      tryKeyboard: false,
      algorithms,
    };
    if (options.keepaliveIntervalMs) config.keepaliveInterval = options.keepaliveIntervalMs;
    conn.connect(config);
  });
}

/** An authenticated SSH connection to an image server, its host key checked against the pinned key or known_hosts. */
export async function connectSsh(endpoint: TransferEndpoint): Promise<Client> {
  const where = describeLocation(endpoint);
  const credentials = endpoint.credentials;
  if (!credentials) throw new TransferError('auth', `${where} needs a login, and no credentials were given`);
  try {
    return await openSshConnection({
      host: endpoint.host,
      port: portOf(endpoint),
      username: credentials.username,
      password: credentials.password,
      privateKey: credentials.privateKey,
      hostKey: endpoint.hostKey,
      knownHostsFile: endpoint.knownHostsFile,
      readyTimeoutMs: endpoint.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      keepaliveIntervalMs: 10_000,
    });
  } catch (err) {
    if (!(err instanceof SshConnectError)) throw err;
    const cause = err.cause as Error;
    if (err.kind === 'host-key') throw new TransferError('host-key', err.message, { cause });
    if (err.kind === 'auth')
      throw new TransferError('auth', `login as "${credentials.username}" refused by ${where}`, { cause });
    if (err.kind === 'timeout')
      throw new TransferError('timeout', `${where} did not complete the SSH handshake in time`, { cause });
    throw (
      socketError(cause, where) ??
      new TransferError('protocol', `SSH connection to ${where} failed: ${cause.message}`, { cause })
    );
  }
}
