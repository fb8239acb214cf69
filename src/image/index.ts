/** ciu image format: the header codec, build, inspect and verify. */
import { ciuCodec } from './ciu-codec';

/** Size in bytes of a ciu image header; the payload starts right after it. */
export const HEADER_SIZE = ciuCodec.headerSize;

export type { ImageCodec, ImageHeader } from './header';
export { ImageFormatError, type ImageFormatErrorCode } from './errors';
export { MAX_PAYLOAD_LENGTH, ciuCodec } from './ciu-codec';
export { encodeImageHeader, parseImageHeader } from './codecs';
export { buildImage, type BuildImageOptions } from './build';
export { inspectImageFile, payloadSha256, verifyImageFile } from './file';
export { describeImageHeader } from './describe';
export {
  ImageKeyError,
  checkImageSignature,
  generateImageKeyPair,
  imageKeyId,
  readTrustedImageKeys,
  signImageHeader,
  signingKeyFromPem,
  trustedImageKeys,
  trustedKeyFromPem,
  type ImageSigningKey,
  type SignatureCheck,
  type TrustedImageKeys,
} from './signature';
