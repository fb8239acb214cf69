/** The facts an image header carries, whatever codec wrote it. */
export interface ImageHeader {
  /** Version of the header layout (the codec's own numbering). */
  formatVersion: number;
  /** Controller platform family the image boots on, e.g. '72xx' (see src/domain/models.ts). */
  imageType: string;
  /** Software version, e.g. '6.4.0.0'. */
  version: string;
  /** Build number, a positive integer. */
  build: number;
  /** Payload bytes following the header. */
  payloadLength: number;
  /** Lower-case hex SHA-256 of the payload. */
  payloadSha256: string;
  /** Id (16 hex digits) of the key that signed the header; absent: unsigned. Whether it verifies is checkImageSignature's question. */
  signedBy?: string;
}

/** An image header codec: the ciu format's (ciu-codec.ts) is the one ciu reads and writes. */
export interface ImageCodec {
  /** Short name, e.g. 'ciu'. */
  readonly name: string;
  /** Bytes every header of this codec starts with. */
  readonly magic: Buffer;
  /** Header size in bytes: the payload starts right after it. */
  readonly headerSize: number;
  /** Parses a header; throws ImageFormatError naming what is wrong. */
  parse(buf: Buffer): ImageHeader;
  /** Serialises a header; throws ImageFormatError for a field that does not fit. */
  encode(header: Omit<ImageHeader, 'formatVersion' | 'signedBy'>): Buffer;
}
