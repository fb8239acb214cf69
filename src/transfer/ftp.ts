import { createWriteStream, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client, FTPError } from 'basic-ftp';
import {
  DEFAULT_TIMEOUT_MS,
  describeLocation,
  portOf,
  type ProtocolClient,
  type TransferEndpoint,
} from './endpoint';
import { settingsFromEnv } from '../settings';
import { abortedError, socketError, TransferError } from './errors';
import { progressCounter } from './progress';

const TLS_TRUST_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|UNABLE_TO_GET_ISSUER/;

function ftpError(err: unknown, where: string, username: string): TransferError {
  if (err instanceof TransferError) return err;
  // Socket errors come first: basic-ftp wraps them in FTPError (keeping the string code) when they
  // cross a realm boundary, as under jest's vm sandbox.
  const socketProblem = socketError(err, where);
  if (socketProblem) return socketProblem;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && TLS_TRUST_ERRORS.test(code))
    return new TransferError('host-key', `TLS certificate of ${where} is not trusted (${code})`, {
      cause: err,
    });
  if (err instanceof FTPError) {
    if (err.code === 530)
      return new TransferError('auth', `login as "${username}" refused by ${where}: ${err.message}`, {
        cause: err,
      });
    if (err.code === 550) return new TransferError('not-found', `${where}: ${err.message}`, { cause: err });
    return new TransferError('protocol', `${where} answered ${err.message}`, { cause: err });
  }
  const message = (err as Error).message ?? String(err);
  // The server (or something between) dropped the connection unanswered: an outage, worth retrying.
  if (/Server sent FIN packet unexpectedly/.test(message))
    return new TransferError('unreachable', `${where} closed the connection (${message})`, { cause: err });
  if (/^Timeout/.test(message) || /because Timeout/.test(message))
    return new TransferError('timeout', `${where} timed out (${message})`, { cause: err });
  return new TransferError('protocol', `${where}: ${message}`, { cause: err });
}

function tlsOptions(endpoint: TransferEndpoint) {
  const caFile = endpoint.caFile ?? settingsFromEnv().tlsCaFile;
  return caFile ? { ca: readFileSync(caFile) } : {};
}

async function connectFtp(endpoint: TransferEndpoint, where: string): Promise<Client> {
  const client = new Client(endpoint.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const username = endpoint.credentials?.username ?? 'anonymous';
  try {
    await client.access({
      host: endpoint.host,
      port: portOf(endpoint),
      user: username,
      password: endpoint.credentials?.password ?? 'anonymous@',
      secure: endpoint.protocol === 'ftps',
      secureOptions: endpoint.protocol === 'ftps' ? tlsOptions(endpoint) : undefined,
    });
    // Binary mode: an image must arrive byte for byte.
    await client.send('TYPE I');
    return client;
  } catch (err) {
    client.close();
    throw ftpError(err, where, username);
  }
}

function closeOnAbort(signal: AbortSignal | undefined, client: Client): () => void {
  if (!signal) return () => undefined;
  const onAbort = () => client.close();
  if (signal.aborted) onAbort();
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

/** FTP and explicit FTPS (AUTH TLS) in passive mode, via basic-ftp. */
export const ftpClient: ProtocolClient = {
  async readHeader(endpoint, path, maxBytes, signal) {
    const where = describeLocation(endpoint, path);
    const client = await connectFtp(endpoint, where);
    const chunks: Buffer[] = [];
    let received = 0;
    let enough = false;
    // FTP has no ranged read: the header read closes the connection once enough bytes arrived.
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        if (received < maxBytes) chunks.push(chunk.subarray(0, maxBytes - received));
        received += chunk.length;
        if (received >= maxBytes && !enough) {
          enough = true;
          client.close();
        }
        done();
      },
    });
    const release = closeOnAbort(signal, client);
    try {
      await client.downloadTo(sink, path);
    } catch (err) {
      if (signal?.aborted) throw abortedError(where);
      if (!enough) throw ftpError(err, where, endpoint.credentials?.username ?? 'anonymous');
    } finally {
      release();
      client.close();
    }
    return { bytes: Buffer.concat(chunks), bytesTransferred: received };
  },

  async download(endpoint, path, destFile, opts) {
    const where = describeLocation(endpoint, path);
    const client = await connectFtp(endpoint, where);
    const release = closeOnAbort(opts.signal, client);
    let total: number | undefined;
    const counter = progressCounter(opts.onProgress, () => total);
    const file = createWriteStream(destFile);
    const written = pipeline(counter, file);
    // On failure the pipeline may never settle (basic-ftp destroys `counter` from inside its own
    // transform when the client closes mid-chunk); the catch below closes the file itself.
    written.catch(() => undefined);
    try {
      // SIZE is optional (RFC 3659): a server without it still serves the file, only progress has no total.
      total = await client.size(path).catch((err: unknown) => {
        if (err instanceof FTPError && err.code >= 500 && err.code <= 504) return undefined;
        throw err;
      });
      await client.downloadTo(counter, path);
      await written;
      return { bytes: counter.bytes() };
    } catch (err) {
      counter.destroy();
      file.destroy();
      // Wait for 'close' only: destroying a stream with a write in flight may also emit 'error'.
      if (!file.closed) await new Promise<void>((closed) => file.once('close', () => closed()));
      if (opts.signal?.aborted) throw abortedError(where);
      throw ftpError(err, where, endpoint.credentials?.username ?? 'anonymous');
    } finally {
      release();
      client.close();
    }
  },
};
