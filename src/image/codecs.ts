import { ciuCodec } from './ciu-codec';
import { ImageFormatError } from './errors';
import type { ImageHeader } from './header';

/** Parses the ciu image header at the start of `buf`, telling a foreign file from a truncated header. */
export function parseImageHeader(buf: Buffer): ImageHeader {
  const { magic } = ciuCodec;
  if (buf.length >= magic.length && buf.subarray(0, magic.length).equals(magic)) return ciuCodec.parse(buf);
  if (buf.length < magic.length && magic.subarray(0, buf.length).equals(buf))
    throw new ImageFormatError('truncated', `image header truncated: got ${buf.length} bytes`);
  const shown = buf.subarray(0, 8).toString('hex');
  throw new ImageFormatError(
    'bad-magic',
    `not an image: bad magic ${shown || '(empty)'} (a ciu image starts with ${magic.toString('hex')})`,
  );
}

/** Serialises a ciu image header. */
export function encodeImageHeader(header: Omit<ImageHeader, 'formatVersion'>): Buffer {
  return ciuCodec.encode(header);
}
