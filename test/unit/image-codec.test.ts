import { createHash } from 'node:crypto';
import {
  HEADER_SIZE,
  ImageFormatError,
  MAX_PAYLOAD_LENGTH,
  encodeImageHeader,
  parseImageHeader,
  type ImageHeader,
} from '../../src/image';

const fields = {
  imageType: '72xx',
  version: '6.4.0.0',
  build: 81234,
  payloadLength: 123_456_789,
  payloadSha256: createHash('sha256').update('payload').digest('hex'),
};

/** Rewrites the header checksum, so a test changes exactly one field. */
function resealed(buf: Buffer): Buffer {
  createHash('sha256').update(buf.subarray(0, 224)).digest().copy(buf, 224);
  return buf;
}

function codeOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ImageFormatError);
    return { code: (err as ImageFormatError).code, message: (err as Error).message };
  }
  throw new Error('expected an ImageFormatError');
}

test('a header round-trips through encode and parse', () => {
  const buf = encodeImageHeader(fields);
  expect(buf.length).toBe(HEADER_SIZE);
  expect(buf.subarray(0, 8).toString('latin1')).toBe('CIUIMG\r\n');
  expect(parseImageHeader(buf)).toEqual<ImageHeader>({ formatVersion: 1, ...fields });
});

test('bytes after the header (the payload) are ignored by the header parser', () => {
  const buf = Buffer.concat([encodeImageHeader(fields), Buffer.from('payload')]);
  expect(parseImageHeader(buf).version).toBe('6.4.0.0');
});

test.each([
  ['empty input', Buffer.alloc(0), 'truncated', 'image header truncated: got 0 bytes'],
  ['part of the magic', Buffer.from('CIUI'), 'truncated', 'image header truncated: got 4 bytes'],
  [
    'magic but short',
    encodeImageHeader(fields).subarray(0, 100),
    'truncated',
    'image header truncated: got 100 bytes, need 256',
  ],
  [
    'another file type',
    Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(300)]),
    'bad-magic',
    'not an image: bad magic 7f454c46',
  ],
])('%s is refused as %s', (_what, buf, code, message) => {
  const err = codeOf(() => parseImageHeader(buf));
  expect(err.code).toBe(code);
  expect(err.message).toContain(message);
});

test('one flipped bit anywhere in the header fails the header checksum', () => {
  for (const at of [9, 20, 40, 61, 70, 100, 150, 230]) {
    const buf = encodeImageHeader(fields);
    buf[at] = (buf[at] ?? 0) ^ 0x01;
    expect(codeOf(() => parseImageHeader(buf))).toEqual({
      code: at === 9 ? 'unsupported-format-version' : 'bad-header-checksum',
      message: expect.any(String),
    });
  }
});

test('a format version this ciu does not know is named', () => {
  const buf = encodeImageHeader(fields);
  buf.writeUInt16BE(2, 8);
  expect(codeOf(() => parseImageHeader(resealed(buf)))).toEqual({
    code: 'unsupported-format-version',
    message: 'image header format version 2 is not supported (this ciu reads version 1)',
  });
});

test('a header length other than 256 is refused', () => {
  const buf = encodeImageHeader(fields);
  buf.writeUInt16BE(4096, 10);
  expect(codeOf(() => parseImageHeader(resealed(buf))).code).toBe('bad-header-length');
});

test('an oversize payload length is refused, on parse and on encode', () => {
  const buf = encodeImageHeader(fields);
  buf.writeBigUInt64BE(BigInt(MAX_PAYLOAD_LENGTH) + 1n, 64);
  expect(codeOf(() => parseImageHeader(resealed(buf))).code).toBe('oversize');
  expect(codeOf(() => encodeImageHeader({ ...fields, payloadLength: MAX_PAYLOAD_LENGTH + 1 })).code).toBe(
    'oversize',
  );
});

test('fields that do not fit or make no sense are named', () => {
  expect(codeOf(() => encodeImageHeader({ ...fields, version: '6.4.0.0-' + 'x'.repeat(40) }))).toEqual({
    code: 'oversize',
    message: 'image header field version is 48 bytes, at most 32 fit',
  });
  expect(codeOf(() => encodeImageHeader({ ...fields, version: 'latest' }))).toEqual({
    code: 'bad-field',
    message: 'image header field version "latest" is not a version like 6.4.0.0',
  });
  expect(codeOf(() => encodeImageHeader({ ...fields, build: 0 })).message).toBe(
    'image header field build 0 is not a positive 32-bit integer',
  );
  expect(codeOf(() => encodeImageHeader({ ...fields, imageType: '' })).code).toBe('bad-field');
  expect(codeOf(() => encodeImageHeader({ ...fields, payloadSha256: 'abc' })).code).toBe('bad-field');
});

test('an empty type field in a sealed header is refused as a bad field', () => {
  const buf = encodeImageHeader(fields);
  buf.fill(0, 12, 28);
  expect(codeOf(() => parseImageHeader(resealed(buf))).code).toBe('bad-field');
});
