import type { Protocol } from '../domain/types';
import {
  DEFAULT_HEADER_DEADLINE_MS,
  describeLocation,
  type DownloadOptions,
  type HeaderRead,
  type ProtocolClient,
  type TransferEndpoint,
} from './endpoint';
import { TransferError } from './errors';
import { ftpClient } from './ftp';
import { httpClient } from './http';
import { scpClient } from './scp';
import { sftpClient } from './sftp';
import { tftpClient } from './tftp';

const clients: Record<Protocol, ProtocolClient> = {
  ftp: ftpClient,
  ftps: ftpClient,
  scp: scpClient,
  sftp: sftpClient,
  tftp: tftpClient,
  http: httpClient,
};

/**
 * Belt and braces: no server reply or library message may carry the password out. Passwords of one
 * or two characters are left alone: they would match ordinary text, and hiding them reveals nothing.
 */
function redacted(err: unknown, endpoint: TransferEndpoint): unknown {
  const secret = endpoint.credentials?.password;
  if (!(err instanceof TransferError) || !secret || secret.length < 3 || !err.message.includes(secret))
    return err;
  return new TransferError(err.code, err.message.split(secret).join('***'));
}

function clientFor(endpoint: TransferEndpoint): ProtocolClient {
  const client = clients[endpoint.protocol];
  if (!client)
    throw new TransferError('protocol', `unsupported image-server protocol "${String(endpoint.protocol)}"`);
  return client;
}

/**
 * Reads only the first `maxBytes` of `path` (fewer if the file is shorter), within the endpoint's
 * overall deadline: the idle timeout alone lets a server that drips a byte now and then hold the
 * read for as long as it likes.
 */
export async function readHeader(
  endpoint: TransferEndpoint,
  path: string,
  maxBytes: number,
  opts: { signal?: AbortSignal } = {},
): Promise<HeaderRead> {
  if (!Number.isInteger(maxBytes) || maxBytes < 1)
    throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
  const deadlineMs = endpoint.deadlineMs ?? DEFAULT_HEADER_DEADLINE_MS;
  const deadline = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline.signal]) : deadline.signal;
  let timer: NodeJS.Timeout | undefined;
  // A client that does not notice the abort at once still cannot keep the caller waiting.
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new TransferError(
          'timeout',
          `${describeLocation(endpoint, path)}: the header read took longer than its ${deadlineMs} ms deadline`,
        ),
      );
      deadline.abort();
    }, deadlineMs);
  });
  try {
    return await Promise.race([clientFor(endpoint).readHeader(endpoint, path, maxBytes, signal), expired]);
  } catch (err) {
    throw redacted(err, endpoint);
  } finally {
    clearTimeout(timer);
  }
}

/** Streams `path` into `destFile`; rejects with TransferError (code 'aborted' when the signal fires). */
export async function download(
  endpoint: TransferEndpoint,
  path: string,
  destFile: string,
  opts: DownloadOptions = {},
): Promise<{ bytes: number }> {
  try {
    return await clientFor(endpoint).download(endpoint, path, destFile, opts);
  } catch (err) {
    throw redacted(err, endpoint);
  }
}
