/**
 * Payload encryption: AES-256-GCM over the whole payload (its metadata and data), so history at rest
 * holds ciphertext only. The key id travels in the outer metadata; new payloads use the ring's
 * current key, and any key still in the ring decrypts (rotation: add a key, keep the old ones while
 * histories written with them matter).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, ValueError, type Payload, type PayloadCodec } from '@temporalio/common';
import type { KeyRing } from './keys';
import { framePayload, unframePayload } from './payload-compression';

/** The outer payload's encoding; `temporal workflow show` without the codec shows this and base64. */
export const encryptedEncoding = 'binary/encrypted';
/** Outer metadata field naming the key a payload was encrypted with. */
export const keyIdMetadata = 'encryption-key-id';

const ivBytes = 12;
const tagBytes = 16;

/**
 * Outer metadata field of payloads whose inner payload is framed as bytes (framePayload); payloads
 * written before it hold base64 in JSON, a third larger, and still decrypt.
 */
export const framingMetadata = 'ciu-framing';
const binaryFraming = 'binary-v2';

/** The inner payload of payloads written before binary framing: metadata and data, base64 in a small JSON object. */
function deserialize(bytes: Buffer): Payload {
  const { metadata, data } = JSON.parse(bytes.toString('utf8')) as {
    metadata: Record<string, string>;
    data: string;
  };
  return {
    metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(data, 'base64'),
  };
}

/** The key id (and the framing) is authenticated with the ciphertext: a payload relabelled to another key fails. */
function aad(keyId: string, framed: boolean): Buffer {
  return Buffer.from(`${framed ? 'ciu-payload-v2' : 'ciu-payload-v1'}:${keyId}`);
}

function text(bytes: Uint8Array | null | undefined): string | undefined {
  return bytes ? Buffer.from(bytes).toString('utf8') : undefined;
}

/** Encrypts with `ring.current`, decrypts with whichever ring key the payload names. */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly ring: KeyRing) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.ring.current;
    const key = this.ring.keys.get(keyId) as Buffer;
    return payloads.map((payload) => {
      const iv = randomBytes(ivBytes);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aad(keyId, true));
      const sealed = Buffer.concat([cipher.update(framePayload(payload)), cipher.final()]);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: Buffer.from(encryptedEncoding),
          [keyIdMetadata]: Buffer.from(keyId),
          [framingMetadata]: Buffer.from(binaryFraming),
        },
        data: Buffer.concat([iv, cipher.getAuthTag(), sealed]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      // Payloads written before encryption, or sent by a client without the codec (the plain
      // `temporal` CLI's purgeTargets), pass as they are.
      if (text(payload.metadata?.[METADATA_ENCODING_KEY]) !== encryptedEncoding) return payload;
      const keyId = text(payload.metadata?.[keyIdMetadata]);
      if (keyId === undefined) throw new ValueError(`encrypted payload has no ${keyIdMetadata}`);
      const key = this.ring.keys.get(keyId);
      if (!key)
        throw new ValueError(
          `payload encrypted with key ${keyId.slice(0, 64)}, which this key file does not hold`,
        );
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < ivBytes + tagBytes) throw new ValueError('encrypted payload is truncated');
      const framed = text(payload.metadata?.[framingMetadata]) === binaryFraming;
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, ivBytes)).setAAD(
        aad(keyId, framed),
      );
      decipher.setAuthTag(data.subarray(ivBytes, ivBytes + tagBytes));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(ivBytes + tagBytes)), decipher.final()]);
      } catch {
        throw new ValueError(`encrypted payload does not authenticate with key ${keyId}`);
      }
      return framed ? unframePayload(plain, 'encrypted payload') : deserialize(plain);
    });
  }
}
