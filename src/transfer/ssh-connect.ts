import { Client } from 'ssh2';
import { DEFAULT_TIMEOUT_MS, describeLocation, portOf, type TransferEndpoint } from './endpoint';
import { socketError, TransferError } from './errors';
import { hostKeyVerifier } from './host-key';

/** An authenticated SSH connection to an image server, its host key checked against the pinned key or known_hosts. */
export function connectSsh(endpoint: TransferEndpoint): Promise<Client> {
  const where = describeLocation(endpoint);
  const credentials = endpoint.credentials;
  if (!credentials)
    return Promise.reject(new TransferError('auth', `${where} needs a login, and no credentials were given`));
  const verifier = hostKeyVerifier({
    host: endpoint.host,
    port: portOf(endpoint),
    hostKey: endpoint.hostKey,
    knownHostsFile: endpoint.knownHostsFile,
  });
  const conn = new Client();
  return new Promise((resolve, reject) => {
    let settled = false;
    conn.once('ready', () => {
      settled = true;
      resolve(conn);
    });
    // 'on', not 'once': ssh2 may emit a second error (e.g. "Connection lost") after the first, and an
    // unheard one would crash the process. Errors after 'ready' belong to the caller's operation.
    conn.on('error', (err: Error & { level?: string }) => {
      if (settled) return;
      settled = true;
      conn.end();
      const refused = verifier.rejection();
      if (refused) return reject(new TransferError('host-key', refused, { cause: err }));
      if (err.level === 'client-authentication')
        return reject(
          new TransferError('auth', `login as "${credentials.username}" refused by ${where}`, { cause: err }),
        );
      if (err.level === 'client-timeout')
        return reject(
          new TransferError('timeout', `${where} did not complete the SSH handshake in time`, { cause: err }),
        );
      reject(
        socketError(err, where) ??
          new TransferError('protocol', `SSH connection to ${where} failed: ${err.message}`, { cause: err }),
      );
    });
    conn.connect({
      host: endpoint.host,
      port: portOf(endpoint),
      username: credentials.username,
      password: credentials.password,
      privateKey: credentials.privateKey,
      hostVerifier: verifier.hostVerifier,
      readyTimeout: endpoint.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      keepaliveInterval: 10_000,
    });
  });
}
