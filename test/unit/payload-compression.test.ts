import { deflateRawSync } from 'node:zlib';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { ciuDataConverter } from '../../src/temporal/data-converter';
import { generateKeyRing } from '../../src/temporal/keys';
import { encryptedEncoding } from '../../src/temporal/payload-codec';
import {
  CodecChain,
  CompressionCodec,
  compressedEncoding,
  defaultCompressionThreshold,
} from '../../src/temporal/payload-compression';

const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const large = {
  controllers: Array.from({ length: 5_000 }, (_, i) => ({
    ip: `10.1.${i >> 8}.${i & 255}`,
    state: 'upgraded',
  })),
};

test('a payload over the threshold is stored deflated and decodes to the same value', async () => {
  const codec = new CompressionCodec();
  const plain = defaultPayloadConverter.toPayload(large) as Payload;
  expect(plain.data?.length).toBeGreaterThan(defaultCompressionThreshold);
  const [encoded] = (await codec.encode([plain])) as [Payload];
  expect(text(encoded.metadata?.encoding)).toBe(compressedEncoding);
  expect(encoded.data?.length).toBeLessThan((plain.data?.length ?? 0) / 10);
  const [decoded] = (await codec.decode([encoded])) as [Payload];
  expect(text(decoded.metadata?.encoding)).toBe('json/plain');
  expect(defaultPayloadConverter.fromPayload(decoded)).toEqual(large);
});

test('a small payload stays readable JSON, untouched', async () => {
  const small = defaultPayloadConverter.toPayload({ ip: '10.1.4.17', state: 'upgraded' }) as Payload;
  const [encoded] = await new CompressionCodec().encode([small]);
  expect(encoded).toBe(small);
  expect(await new CompressionCodec().decode([small])).toEqual([small]);
});

test('a deflate bomb is refused, not inflated', async () => {
  const bomb: Payload = {
    metadata: { encoding: Buffer.from(compressedEncoding) },
    data: deflateRawSync(Buffer.alloc(80 * 1024 * 1024)),
  };
  await expect(new CompressionCodec().decode([bomb])).rejects.toThrow('compressed payload does not inflate');
});

test('workers and clients compress before encrypting: the ciphertext is small and decodes through the chain', async () => {
  const { payloadCodecs = [] } = ciuDataConverter({ payloadKeys: generateKeyRing('k1') });
  const chain = new CodecChain(payloadCodecs);
  const plain = defaultPayloadConverter.toPayload(large) as Payload;
  const [encoded] = (await chain.encode([plain])) as [Payload];
  expect(text(encoded.metadata?.encoding)).toBe(encryptedEncoding);
  expect(encoded.data?.length).toBeLessThan((plain.data?.length ?? 0) / 5);
  const [decoded] = (await chain.decode([encoded])) as [Payload];
  expect(defaultPayloadConverter.fromPayload(decoded)).toEqual(large);
});
