import { createWriteStream } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import {
  DEFAULT_TIMEOUT_MS,
  describeLocation,
  portOf,
  type ProtocolClient,
  type TransferEndpoint,
} from './endpoint';
import { abortedError, socketError, TransferError } from './errors';
import { progressCounter } from './progress';

function get(
  endpoint: TransferEndpoint,
  path: string,
  where: string,
  headers: Record<string, string>,
  signal?: AbortSignal,
): Promise<IncomingMessage> {
  const credentials = endpoint.credentials;
  const auth = credentials
    ? {
        authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password ?? ''}`).toString('base64')}`,
      }
    : {};
  return new Promise((resolve, reject) => {
    const req = request({
      host: endpoint.host,
      port: portOf(endpoint),
      path: `/${path.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/')}`,
      headers: { ...headers, ...auth },
      timeout: endpoint.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      signal,
    });
    req.on('timeout', () => req.destroy(new TransferError('timeout', `${where} did not answer in time`)));
    req.on('error', (err) => {
      if (signal?.aborted) return reject(abortedError(where));
      reject(
        err instanceof TransferError
          ? err
          : (socketError(err, where) ??
              new TransferError('protocol', `${where}: ${err.message}`, { cause: err })),
      );
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status === 200 || status === 206) return resolve(res);
      res.resume();
      if (status === 404 || status === 410)
        return reject(new TransferError('not-found', `${where}: HTTP ${status}, no such file`));
      if (status === 401 || status === 403)
        return reject(new TransferError('auth', `${where}: HTTP ${status}, access refused`));
      reject(new TransferError('protocol', `${where}: HTTP ${status} ${res.statusMessage ?? ''}`.trim()));
    });
    req.end();
  });
}

/** HTTP: the header is a Range request; a server that ignores Range is cut off after enough bytes. */
export const httpClient: ProtocolClient = {
  async readHeader(endpoint, path, maxBytes, signal) {
    const where = describeLocation(endpoint, path);
    const res = await get(endpoint, path, where, { range: `bytes=0-${maxBytes - 1}` }, signal);
    const chunks: Buffer[] = [];
    let received = 0;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        if (received < maxBytes) chunks.push(chunk.subarray(0, maxBytes - received));
        received += chunk.length;
        if (received >= maxBytes) break;
      }
    } catch (err) {
      if (signal?.aborted) throw abortedError(where);
      throw (
        socketError(err, where) ??
        new TransferError('protocol', `${where}: ${(err as Error).message}`, { cause: err })
      );
    } finally {
      res.destroy();
    }
    return { bytes: Buffer.concat(chunks), bytesTransferred: received };
  },

  async download(endpoint, path, destFile, opts) {
    const where = describeLocation(endpoint, path);
    const res = await get(endpoint, path, where, {}, opts.signal);
    const length = res.headers['content-length'];
    const total = length === undefined ? undefined : Number(length);
    const counter = progressCounter(opts.onProgress, () => total);
    try {
      await pipeline(res, counter, createWriteStream(destFile), { signal: opts.signal });
    } catch (err) {
      if (opts.signal?.aborted) throw abortedError(where);
      throw (
        socketError(err, where) ??
        new TransferError('protocol', `${where}: ${(err as Error).message}`, { cause: err })
      );
    }
    const bytes = counter.bytes();
    if (total !== undefined && bytes !== total)
      throw new TransferError('protocol', `${where}: connection closed after ${bytes} of ${total} bytes`);
    return { bytes };
  },
};
