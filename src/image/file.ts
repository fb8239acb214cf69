import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { ciuCodec } from './ciu-codec';
import { parseImageHeader } from './codecs';
import { ImageFormatError } from './errors';
import type { ImageHeader } from './header';

async function readStart(path: string): Promise<{ start: Buffer; size: number }> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const buf = Buffer.alloc(Math.min(size, ciuCodec.headerSize));
    const { bytesRead } = await file.read(buf, 0, buf.length, 0);
    return { start: buf.subarray(0, bytesRead), size };
  } finally {
    await file.close();
  }
}

/** Reads and parses only the header of a local image file. */
export async function inspectImageFile(path: string): Promise<ImageHeader> {
  return parseImageHeader((await readStart(path)).start);
}

/** SHA-256 (hex) of a local image file's payload, whatever its header says (streamed). */
export async function payloadSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(
    createReadStream(path, { start: ciuCodec.headerSize }),
    async (chunks: AsyncIterable<Buffer>) => {
      for await (const chunk of chunks) hash.update(chunk);
    },
  );
  return hash.digest('hex');
}

/** Checks a local image whole: header, then payload length and SHA-256 against it (streamed). */
export async function verifyImageFile(path: string): Promise<ImageHeader> {
  const { start, size } = await readStart(path);
  const header = parseImageHeader(start);
  const headerSize = ciuCodec.headerSize;
  const payloadBytes = size - headerSize;
  if (payloadBytes < header.payloadLength)
    throw new ImageFormatError(
      'truncated',
      `image ${path} is truncated: ${payloadBytes} payload bytes, the header announces ${header.payloadLength}`,
    );
  if (payloadBytes > header.payloadLength)
    throw new ImageFormatError(
      'payload-mismatch',
      `image ${path} has ${payloadBytes - header.payloadLength} bytes after the ${header.payloadLength}-byte payload`,
    );
  const actual = await payloadSha256(path);
  if (actual !== header.payloadSha256)
    throw new ImageFormatError(
      'payload-mismatch',
      `image ${path} payload SHA-256 is ${actual}, the header says ${header.payloadSha256}`,
    );
  return header;
}
