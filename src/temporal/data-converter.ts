import type { DataConverter, PayloadCodec } from '@temporalio/common';
import type { KeyRing } from './keys';
import { EncryptionCodec } from './payload-codec';
import { CompressionCodec } from './payload-compression';

/** The module workers, their workflow bundle and clients load the failure converter from. */
export const failureConverterPath = require.resolve('./failure-converter');

/** Codecs of one side: compression of large payloads always, encryption when payload keys are configured (`CIU_PAYLOAD_KEYS`). */
export interface CodecOptions {
  /** Default: payloads travel and rest in clear. */
  payloadKeys?: KeyRing;
  /** Workers only: seals internal messages (applied before encryption). */
  messageCodec?: PayloadCodec;
}

/** A Worker's or Client's data converter: ciu's codecs and the failure converter the bundle was built with. */
export function ciuDataConverter({ payloadKeys, messageCodec }: CodecOptions): DataConverter {
  return {
    payloadCodecs: [
      ...(messageCodec ? [messageCodec] : []),
      new CompressionCodec(),
      ...(payloadKeys ? [new EncryptionCodec(payloadKeys)] : []),
    ],
    failureConverterPath,
  };
}
