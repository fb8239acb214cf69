/**
 * Payload compression: a payload larger than a threshold (a 10,000-controller master's carried state,
 * its result, the plan) travels and rests deflated, so it stays far under Temporal's 2 MiB blob limit;
 * smaller ones pass untouched and stay readable JSON in the Web UI and the `temporal` CLI. Runs after
 * the message seal and before encryption (ciphertext does not compress).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { METADATA_ENCODING_KEY, ValueError, type Payload, type PayloadCodec } from '@temporalio/common';

/** The outer payload's encoding; without the codec, `temporal workflow show` shows this and base64. */
export const compressedEncoding = 'binary/ciu-deflate';

/** Payloads whose data is at most this many bytes stay as they are. Default 128 KiB: a status page stays JSON. */
export const defaultCompressionThreshold = 128 * 1024;

/** Largest payload a decode inflates to (a deflate bomb is refused, not inflated): far above any campaign. */
const maxInflatedBytes = 64 * 1024 * 1024;

function text(bytes: Uint8Array | null | undefined): string | undefined {
  return bytes ? Buffer.from(bytes).toString('utf8') : undefined;
}

/** A payload as bytes: its metadata as JSON (values base64) after a 4-byte length, then its data as it is. */
export function framePayload(payload: Payload): Buffer {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {}))
    if (value) metadata[key] = Buffer.from(value).toString('base64');
  const head = Buffer.from(JSON.stringify(metadata));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(head.length);
  return Buffer.concat([length, head, Buffer.from(payload.data ?? new Uint8Array())]);
}

/** The payload `framePayload` wrote; `what` names it in errors. */
export function unframePayload(bytes: Buffer, what: string): Payload {
  if (bytes.length < 4) throw new ValueError(`${what} is truncated`);
  const headLength = bytes.readUInt32BE(0);
  if (4 + headLength > bytes.length) throw new ValueError(`${what} is truncated`);
  let metadata: Record<string, string>;
  try {
    metadata = JSON.parse(bytes.subarray(4, 4 + headLength).toString('utf8')) as Record<string, string>;
  } catch {
    throw new ValueError(`${what} has unreadable metadata`);
  }
  return {
    metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: bytes.subarray(4 + headLength),
  };
}

/** Deflates payloads over `threshold` bytes (when that makes them smaller); inflates what it deflated. */
export class CompressionCodec implements PayloadCodec {
  constructor(private readonly threshold = defaultCompressionThreshold) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if ((payload.data?.length ?? 0) <= this.threshold) return payload;
      const compressed = deflateRawSync(framePayload(payload));
      if (compressed.length >= (payload.data?.length ?? 0)) return payload;
      return { metadata: { [METADATA_ENCODING_KEY]: Buffer.from(compressedEncoding) }, data: compressed };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (text(payload.metadata?.[METADATA_ENCODING_KEY]) !== compressedEncoding) return payload;
      let inflated: Buffer;
      try {
        inflated = inflateRawSync(Buffer.from(payload.data ?? new Uint8Array()), {
          maxOutputLength: maxInflatedBytes,
        });
      } catch (err) {
        throw new ValueError(
          `compressed payload does not inflate (at most ${maxInflatedBytes} bytes): ${(err as Error).message}`,
        );
      }
      return unframePayload(inflated, 'compressed payload');
    });
  }
}

/** Codecs applied as one (encode in order, decode in reverse), for a codec server that takes one codec. */
export class CodecChain implements PayloadCodec {
  constructor(private readonly codecs: readonly PayloadCodec[]) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    let encoded = payloads;
    for (const codec of this.codecs) encoded = await codec.encode(encoded);
    return encoded;
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    let decoded = payloads;
    for (const codec of [...this.codecs].reverse()) decoded = await codec.decode(decoded);
    return decoded;
  }
}
