import { createHash } from 'node:crypto';
import { ImageFormatError } from './errors';
import type { ImageCodec, ImageHeader } from './header';

/*
 * The ciu image header: 256 bytes, big-endian, followed by the payload.
 *
 *   0   8  magic "CIUIMG\r\n" (the CR LF catches text-mode FTP transfers, as PNG's magic does)
 *   8   2  format version (1)
 *  10   2  header length (256)
 *  12  16  image type, ASCII, NUL-padded
 *  28  32  version, ASCII, NUL-padded
 *  60   4  build
 *  64   8  payload length
 *  72  32  payload SHA-256
 * 104   8  signing key id (zero: unsigned)
 * 112  64  Ed25519 signature of bytes 0..111 (zero: unsigned)
 * 176  48  reserved, zero
 * 224  32  SHA-256 of bytes 0..223 (header checksum)
 *
 * The signature fields sit in what format 1 reserved, so an unsigned image is still a valid format 1
 * image and no format version is needed.
 */
const MAGIC = Buffer.from('CIUIMG\r\n', 'latin1');
const FORMAT_VERSION = 1;
const SIZE = 256;
const CHECKSUM_AT = 224;
const TYPE_FIELD = { at: 12, size: 16 };
const VERSION_FIELD = { at: 28, size: 32 };
const KEY_ID_FIELD = { at: 104, size: 8 };
const SIGNATURE_FIELD = { at: 112, size: 64 };

/** Largest payload a header may announce (64 GiB): a bigger one is a corrupt or hostile header. */
export const MAX_PAYLOAD_LENGTH = 64 * 1024 ** 3;

const IMAGE_TYPE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const VERSION = /^[0-9]+(\.[0-9]+){1,5}[A-Za-z0-9_-]*$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

function checksum(buf: Buffer): Buffer {
  return createHash('sha256').update(buf.subarray(0, CHECKSUM_AT)).digest();
}

function isZero(buf: Buffer): boolean {
  return buf.every((byte) => byte === 0);
}

function reseal(buf: Buffer): Buffer {
  checksum(buf).copy(buf, CHECKSUM_AT);
  return buf;
}

function fieldOf(buf: Buffer, field: { at: number; size: number }): Buffer {
  return buf.subarray(field.at, field.at + field.size);
}

/**
 * Where a ciu header keeps its signature. The signed bytes are everything up to the signature
 * (magic, fields, the payload SHA-256 and the key id), so one signature binds header and payload.
 */
export const ciuSignatureLayout = {
  keyIdLength: KEY_ID_FIELD.size,
  signatureLength: SIGNATURE_FIELD.size,
  /** The bytes the signature covers. */
  signedBytes: (header: Buffer): Buffer => header.subarray(0, SIGNATURE_FIELD.at),
  keyId: (header: Buffer): Buffer => fieldOf(header, KEY_ID_FIELD),
  signature: (header: Buffer): Buffer => fieldOf(header, SIGNATURE_FIELD),
  /** A copy of `header` (unsigned) carrying `keyId`, then the signature `sign` makes of the signed bytes. */
  sign(header: Buffer, keyId: Buffer, sign: (signed: Buffer) => Buffer): Buffer {
    if (keyId.length !== KEY_ID_FIELD.size) throw new Error(`a key id is ${KEY_ID_FIELD.size} bytes`);
    const signed = Buffer.from(header.subarray(0, SIZE));
    keyId.copy(signed, KEY_ID_FIELD.at);
    const signature = sign(signed.subarray(0, SIGNATURE_FIELD.at));
    if (signature.length !== SIGNATURE_FIELD.size)
      throw new Error(`a signature is ${SIGNATURE_FIELD.size} bytes`);
    signature.copy(signed, SIGNATURE_FIELD.at);
    return reseal(signed);
  },
};

function readText(buf: Buffer, field: { at: number; size: number }): string {
  const raw = buf.subarray(field.at, field.at + field.size);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? raw.length : end).toString('latin1');
}

function writeText(buf: Buffer, field: { at: number; size: number }, name: string, value: string): void {
  const bytes = Buffer.from(value, 'latin1');
  if (bytes.length > field.size)
    throw new ImageFormatError(
      'oversize',
      `image header field ${name} is ${bytes.length} bytes, at most ${field.size} fit`,
    );
  bytes.copy(buf, field.at);
}

/** Field checks shared by parse and encode, so a header we write is always one we accept. */
function checkFields(h: Omit<ImageHeader, 'formatVersion'>): void {
  if (!IMAGE_TYPE.test(h.imageType))
    throw new ImageFormatError(
      'bad-field',
      `image header field imageType ${JSON.stringify(h.imageType)} is not a platform family name`,
    );
  if (!VERSION.test(h.version))
    throw new ImageFormatError(
      'bad-field',
      `image header field version ${JSON.stringify(h.version)} is not a version like 6.4.0.0`,
    );
  if (!Number.isInteger(h.build) || h.build < 1 || h.build > 0xffffffff)
    throw new ImageFormatError(
      'bad-field',
      `image header field build ${h.build} is not a positive 32-bit integer`,
    );
  if (!Number.isSafeInteger(h.payloadLength) || h.payloadLength < 0)
    throw new ImageFormatError(
      'bad-field',
      `image header field payloadLength ${h.payloadLength} is not a byte count`,
    );
  if (h.payloadLength > MAX_PAYLOAD_LENGTH)
    throw new ImageFormatError(
      'oversize',
      `image header announces a ${h.payloadLength}-byte payload, more than the ${MAX_PAYLOAD_LENGTH}-byte limit`,
    );
  if (!SHA256_HEX.test(h.payloadSha256))
    throw new ImageFormatError(
      'bad-field',
      'image header field payloadSha256 is not 64 lower-case hex digits',
    );
}

/** ciu's own image format, version 1. */
export const ciuCodec: ImageCodec = {
  name: 'ciu',
  magic: MAGIC,
  headerSize: SIZE,

  parse(buf) {
    if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC))
      throw new ImageFormatError(
        buf.length < MAGIC.length ? 'truncated' : 'bad-magic',
        buf.length < MAGIC.length
          ? `image header truncated: got ${buf.length} bytes, need ${SIZE}`
          : `not a ciu image: bad magic ${buf.subarray(0, MAGIC.length).toString('hex')} (expected ${MAGIC.toString('hex')})`,
      );
    if (buf.length < SIZE)
      throw new ImageFormatError(
        'truncated',
        `image header truncated: got ${buf.length} bytes, need ${SIZE}`,
      );
    const formatVersion = buf.readUInt16BE(8);
    if (formatVersion !== FORMAT_VERSION)
      throw new ImageFormatError(
        'unsupported-format-version',
        `image header format version ${formatVersion} is not supported (this ciu reads version ${FORMAT_VERSION})`,
      );
    const headerLength = buf.readUInt16BE(10);
    if (headerLength !== SIZE)
      throw new ImageFormatError(
        'bad-header-length',
        `image header length field says ${headerLength}, format ${FORMAT_VERSION} has ${SIZE}`,
      );
    if (!checksum(buf).equals(buf.subarray(CHECKSUM_AT, SIZE)))
      throw new ImageFormatError(
        'bad-header-checksum',
        'image header checksum does not match: the header is corrupt',
      );
    const payloadLength = Number(buf.readBigUInt64BE(64));
    const header: ImageHeader = {
      formatVersion,
      imageType: readText(buf, TYPE_FIELD),
      version: readText(buf, VERSION_FIELD),
      build: buf.readUInt32BE(60),
      payloadLength,
      payloadSha256: buf.subarray(72, 104).toString('hex'),
    };
    checkFields(header);
    const keyId = fieldOf(buf, KEY_ID_FIELD);
    if (isZero(keyId) !== isZero(fieldOf(buf, SIGNATURE_FIELD)))
      throw new ImageFormatError(
        'bad-field',
        'image header signature is half there: a key id without a signature, or a signature without a key id',
      );
    if (!isZero(keyId)) header.signedBy = keyId.toString('hex');
    return header;
  },

  encode(h) {
    checkFields(h);
    const buf = Buffer.alloc(SIZE);
    MAGIC.copy(buf, 0);
    buf.writeUInt16BE(FORMAT_VERSION, 8);
    buf.writeUInt16BE(SIZE, 10);
    writeText(buf, TYPE_FIELD, 'imageType', h.imageType);
    writeText(buf, VERSION_FIELD, 'version', h.version);
    buf.writeUInt32BE(h.build, 60);
    buf.writeBigUInt64BE(BigInt(h.payloadLength), 64);
    Buffer.from(h.payloadSha256, 'hex').copy(buf, 72);
    return reseal(buf);
  },
};
