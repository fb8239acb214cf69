import { createWriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Client, ClientChannel } from 'ssh2';
import { describeLocation, type ProtocolClient } from './endpoint';
import { abortedError, TransferError } from './errors';
import { progressCounter } from './progress';
import { ScpReceiver, ScpRefusal, shellQuote } from './scp-protocol';
import { connectSsh } from './ssh-connect';

function execScp(conn: Client, path: string, where: string): Promise<ClientChannel> {
  if (/[\n\r\0]/.test(path))
    return Promise.reject(new TransferError('not-found', `${where}: file name has control characters`));
  return new Promise((resolve, reject) =>
    conn.exec(`scp -f -- ${shellQuote(path)}`, (err, channel) =>
      err
        ? reject(new TransferError('protocol', `${where} refused to run scp: ${err.message}`, { cause: err }))
        : resolve(channel),
    ),
  );
}

function receive(channel: ClientChannel): ScpReceiver {
  const receiver = new ScpReceiver(() => channel.write(Buffer.alloc(1)));
  channel.write(Buffer.alloc(1));
  return receiver;
}

function scpError(err: unknown, where: string): TransferError {
  if (err instanceof TransferError) return err;
  if (err instanceof ScpRefusal)
    return /no such file|not a regular file|is a directory|permission denied/i.test(err.message)
      ? new TransferError('not-found', `${where}: ${err.message.replace(/^scp: /, '')}`, { cause: err })
      : new TransferError('protocol', `${where}: ${err.message}`, { cause: err });
  return new TransferError('protocol', `${where}: ${(err as Error).message}`, { cause: err });
}

/** SCP via `scp -f` over an ssh2 exec channel. A header read closes the channel once it has enough bytes. */
export const scpClient: ProtocolClient = {
  async readHeader(endpoint, path, maxBytes, signal) {
    const where = describeLocation(endpoint, path);
    const conn = await connectSsh(endpoint);
    try {
      const channel = await execScp(conn, path, where);
      const receiver = receive(channel);
      const chunks: Buffer[] = [];
      let received = 0;
      const stop = new AbortController();
      const onAbort = () => stop.abort(abortedError(where));
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await pipeline(
          channel,
          receiver,
          new Writable({
            write(chunk: Buffer, _encoding, done) {
              if (received < maxBytes) chunks.push(chunk.subarray(0, maxBytes - received));
              received += chunk.length;
              if (received >= maxBytes) stop.abort();
              done();
            },
          }),
          { signal: stop.signal },
        );
      } catch (err) {
        if (signal?.aborted) throw abortedError(where);
        if (!(stop.signal.aborted && received >= maxBytes)) throw scpError(err, where);
      } finally {
        signal?.removeEventListener('abort', onAbort);
        channel.close();
      }
      return { bytes: Buffer.concat(chunks), bytesTransferred: received };
    } finally {
      conn.end();
    }
  },

  async download(endpoint, path, destFile, opts) {
    const where = describeLocation(endpoint, path);
    const conn = await connectSsh(endpoint);
    try {
      const channel = await execScp(conn, path, where);
      const receiver = receive(channel);
      const counter = progressCounter(opts.onProgress, () => receiver.size);
      try {
        await pipeline(channel, receiver, counter, createWriteStream(destFile), { signal: opts.signal });
      } catch (err) {
        if (opts.signal?.aborted) throw abortedError(where);
        throw scpError(err, where);
      } finally {
        channel.close();
      }
      return { bytes: counter.bytes() };
    } finally {
      conn.end();
    }
  },
};
