import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ciuCodec as codec } from './ciu-codec';
import type { ImageHeader } from './header';
import { signImageHeader, type ImageSigningKey } from './signature';

/** What buildImage needs. */
export interface BuildImageOptions {
  /** The payload bytes, or the path of a file holding them (streamed, never read whole). */
  payload: Buffer | string;
  /** Platform family, e.g. '72xx'. */
  imageType: string;
  /** Version string, e.g. '6.4.0.0'. */
  version: string;
  /** Build number, a positive integer. */
  build: number;
  /** Path of the image file to write. */
  out: string;
  /** Signs the header (and with it the payload's SHA-256). Default: unsigned. */
  sign?: ImageSigningKey;
}

/**
 * Writes header + payload to `out` and returns the header. A file payload is streamed once: the
 * header's place is reserved, the payload is copied while hashing, then the header is written in.
 */
export async function buildImage(options: BuildImageOptions): Promise<ImageHeader> {
  const fields = { imageType: options.imageType, version: options.version, build: options.build };
  // Encode once up front so a bad field fails before any file is written.
  codec.encode({ ...fields, payloadLength: 0, payloadSha256: '0'.repeat(64) });
  const { sign } = options;
  const encode = (h: Omit<ImageHeader, 'formatVersion' | 'signedBy'>) =>
    sign ? signImageHeader(codec.encode(h), sign) : codec.encode(h);

  if (Buffer.isBuffer(options.payload)) {
    const payloadSha256 = createHash('sha256').update(options.payload).digest('hex');
    const header = encode({ ...fields, payloadLength: options.payload.length, payloadSha256 });
    await writeFile(options.out, Buffer.concat([header, options.payload]));
    return codec.parse(header);
  }

  const hash = createHash('sha256');
  let payloadLength = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      payloadLength += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(
    createReadStream(options.payload),
    hashing,
    createWriteStream(options.out, { start: codec.headerSize }),
  );
  const header = encode({ ...fields, payloadLength, payloadSha256: hash.digest('hex') });
  const file = await open(options.out, 'r+');
  try {
    await file.write(header, 0, header.length, 0);
  } finally {
    await file.close();
  }
  return codec.parse(header);
}
