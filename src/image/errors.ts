/** What is wrong with an image, as a stable code tests and activities branch on. */
export type ImageFormatErrorCode =
  | 'truncated'
  | 'bad-magic'
  | 'bad-header-checksum'
  | 'unsupported-format-version'
  | 'bad-header-length'
  | 'bad-field'
  | 'oversize'
  | 'payload-mismatch';

/** An image (or image header) that does not follow its format. The message names what is wrong. */
export class ImageFormatError extends Error {
  override readonly name = 'ImageFormatError';
  constructor(
    readonly code: ImageFormatErrorCode,
    message: string,
  ) {
    super(message);
  }
}
