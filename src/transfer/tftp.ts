import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { DEFAULT_TIMEOUT_MS, portOf, type ProtocolClient } from './endpoint';
import { abortedError } from './errors';
import { tftpRead } from './tftp-client';

/** Retransmit interval: a tenth of the endpoint timeout (five silent tries end the transfer early enough). */
function retransmitMs(timeoutMs: number | undefined): number {
  return Math.max(200, Math.round((timeoutMs ?? DEFAULT_TIMEOUT_MS) / 10));
}

/** TFTP: no login; the header read stops after the first block(s). */
export const tftpClient: ProtocolClient = {
  async readHeader(endpoint, path, maxBytes, signal) {
    const chunks: Buffer[] = [];
    let collected = 0;
    const { bytes } = await tftpRead(
      endpoint.host,
      portOf(endpoint),
      path,
      (data) => {
        chunks.push(data.subarray(0, maxBytes - collected));
        collected += Math.min(data.length, maxBytes - collected);
        return collected >= maxBytes ? 'stop' : undefined;
      },
      {
        signal,
        retransmitMs: retransmitMs(endpoint.timeoutMs),
        blksize: Math.min(1468, Math.max(512, maxBytes)),
      },
    );
    return { bytes: Buffer.concat(chunks), bytesTransferred: bytes };
  },

  async download(endpoint, path, destFile, opts) {
    const where = `tftp://${endpoint.host}:${portOf(endpoint)}/${path}`;
    const out = createWriteStream(destFile);
    let writeError: Error | undefined;
    out.on('error', (err) => (writeError = err));
    let written = 0;
    try {
      const { bytes } = await tftpRead(
        endpoint.host,
        portOf(endpoint),
        path,
        async (data, tsize) => {
          if (writeError) throw writeError;
          written += data.length;
          opts.onProgress?.(written, tsize);
          if (!out.write(data)) await once(out, 'drain');
        },
        { signal: opts.signal, retransmitMs: retransmitMs(endpoint.timeoutMs) },
      );
      out.end();
      await finished(out);
      return { bytes };
    } catch (err) {
      out.destroy();
      if (opts.signal?.aborted) throw abortedError(where);
      throw err;
    }
  },
};
