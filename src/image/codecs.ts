import { ciuCodec } from './ciu-codec';
import { ImageFormatError } from './errors';
import type { ImageCodec, ImageHeader } from './header';

const codecs: ImageCodec[] = [ciuCodec];

/** Adds a codec (e.g. a vendor's format); later lookups recognise its magic. */
export function registerImageCodec(codec: ImageCodec): void {
  if (codecs.some((c) => c.name === codec.name))
    throw new Error(`image codec "${codec.name}" is already registered`);
  codecs.push(codec);
}

/** The codec named `name`; throws for an unknown one. */
export function imageCodec(name: string): ImageCodec {
  const found = codecs.find((c) => c.name === name);
  if (!found)
    throw new Error(`unknown image codec "${name}" (known: ${codecs.map((c) => c.name).join(', ')})`);
  return found;
}

/** Bytes enough to recognise and parse any registered header. */
export function maxHeaderSize(): number {
  return Math.max(...codecs.map((c) => c.headerSize));
}

/** Parses the header at the start of `buf` with whichever codec's magic it carries. */
export function parseImageHeader(buf: Buffer): ImageHeader {
  const codec = codecs.find(
    (c) => buf.length >= c.magic.length && buf.subarray(0, c.magic.length).equals(c.magic),
  );
  if (codec) return codec.parse(buf);
  const partial = codecs.some(
    (c) => buf.length < c.magic.length && c.magic.subarray(0, buf.length).equals(buf),
  );
  if (partial) throw new ImageFormatError('truncated', `image header truncated: got ${buf.length} bytes`);
  const shown = buf.subarray(0, 8).toString('hex');
  throw new ImageFormatError(
    'bad-magic',
    `not an image: bad magic ${shown || '(empty)'} (known formats: ${codecs.map((c) => c.name).join(', ')})`,
  );
}

/** Serialises a header with the named codec (default: ciu). */
export function encodeImageHeader(header: Omit<ImageHeader, 'formatVersion'>, codecName = 'ciu'): Buffer {
  return imageCodec(codecName).encode(header);
}

/** Header size of the codec that wrote `buf`. */
export function headerSizeOf(buf: Buffer): number {
  const codec = codecs.find((c) => buf.subarray(0, c.magic.length).equals(c.magic));
  return codec ? codec.headerSize : ciuCodec.headerSize;
}
