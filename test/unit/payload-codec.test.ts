import { createCipheriv, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { addKeyToFile, generateKeyRing, loadKeyRing, type KeyRing } from '../../src/temporal/keys';
import {
  EncryptionCodec,
  encryptedEncoding,
  framingMetadata,
  keyIdMetadata,
} from '../../src/temporal/payload-codec';

const dir = mkdtempSync(join(tmpdir(), 'ciu-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const input = { inventory: [{ ip: '10.1.4.17', model: 'A7210' }], server: '10.0.0.5:21' };

async function roundTrip(encodeWith: KeyRing, decodeWith: KeyRing): Promise<unknown> {
  const [encoded] = await new EncryptionCodec(encodeWith).encode([defaultPayloadConverter.toPayload(input)]);
  const [decoded] = await new EncryptionCodec(decodeWith).decode([encoded as Payload]);
  return defaultPayloadConverter.fromPayload(decoded as Payload);
}

test('a payload is ciphertext labelled with its key id, and decrypts to the same value', async () => {
  const ring = generateKeyRing('k1');
  const [encoded] = await new EncryptionCodec(ring).encode([defaultPayloadConverter.toPayload(input)]);
  expect(text(encoded?.metadata?.encoding)).toBe(encryptedEncoding);
  expect(text(encoded?.metadata?.[keyIdMetadata])).toBe('k1');
  expect(Buffer.from(encoded?.data ?? []).includes('10.1.4.17')).toBe(false);
  expect(await roundTrip(ring, ring)).toEqual(input);
});

test('key rotation: the new current key encrypts, an old key still decrypts what it wrote, a dropped key is named', async () => {
  const file = join(dir, 'rotate.yaml');
  const first = addKeyToFile(file, { id: 'old' });
  const before = loadKeyRing(file);
  expect(before.current).toBe(first);
  const [oldPayload] = await new EncryptionCodec(before).encode([defaultPayloadConverter.toPayload(input)]);

  addKeyToFile(file, { id: 'new' });
  const after = loadKeyRing(file);
  expect(after.current).toBe('new');
  expect([...after.keys.keys()].sort()).toEqual(['new', 'old']);
  const [newPayload] = await new EncryptionCodec(after).encode([defaultPayloadConverter.toPayload(input)]);
  expect(text(newPayload?.metadata?.[keyIdMetadata])).toBe('new');
  const decoded = await new EncryptionCodec(after).decode([oldPayload as Payload, newPayload as Payload]);
  expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([input, input]);

  const onlyNew: KeyRing = { current: 'new', keys: new Map([['new', after.keys.get('new') as Buffer]]) };
  await expect(new EncryptionCodec(onlyNew).decode([oldPayload as Payload])).rejects.toThrow(
    'payload encrypted with key old, which this key file does not hold',
  );
});

test('a tampered payload or one relabelled to another key does not decrypt', async () => {
  const ring: KeyRing = {
    current: 'a',
    keys: new Map([
      ['a', generateKeyRing().keys.get('k1') as Buffer],
      ['b', generateKeyRing().keys.get('k1') as Buffer],
    ]),
  };
  const codec = new EncryptionCodec(ring);
  const [encoded] = (await codec.encode([defaultPayloadConverter.toPayload(input)])) as [Payload];
  const flipped = Buffer.from(encoded.data ?? []);
  flipped[flipped.length - 1] = (flipped.at(-1) ?? 0) ^ 1;
  await expect(codec.decode([{ ...encoded, data: flipped }])).rejects.toThrow('does not authenticate');
  const relabelled = { ...encoded, metadata: { ...encoded.metadata, [keyIdMetadata]: Buffer.from('b') } };
  await expect(codec.decode([relabelled])).rejects.toThrow('does not authenticate with key b');
});

test('payloads without encryption (the plain temporal CLI) pass through', async () => {
  const plain = defaultPayloadConverter.toPayload('all');
  expect(await new EncryptionCodec(generateKeyRing()).decode([plain])).toEqual([plain]);
});

test('a key file readable by group or others, or with a bad key, is refused naming it', () => {
  const file = join(dir, 'open.yaml');
  addKeyToFile(file, { id: 'k1' });
  expect(loadKeyRing(file).current).toBe('k1');
  chmodSync(file, 0o640);
  expect(() => loadKeyRing(file)).toThrow(
    `key file ${file} is readable by group or others (mode 640); chmod 600 it`,
  );
  const short = join(dir, 'short.yaml');
  writeFileSync(short, 'current: k1\nkeys:\n  k1: c2hvcnQ=\n', { mode: 0o600 });
  expect(() => loadKeyRing(short)).toThrow(`key file ${short}.keys.k1 must be 32 bytes in base64`);
  const noCurrent = join(dir, 'no-current.yaml');
  writeFileSync(noCurrent, `current: k2\nkeys:\n  k1: ${Buffer.alloc(32).toString('base64')}\n`, {
    mode: 0o600,
  });
  expect(() => loadKeyRing(noCurrent)).toThrow(`key file ${noCurrent}.current must name one of its keys`);
});

test('payloads encrypted before binary framing (base64 in JSON) still decrypt; relabelling the framing does not authenticate', async () => {
  const ring = generateKeyRing('k1');
  const key = ring.keys.get('k1') as Buffer;
  const plain = defaultPayloadConverter.toPayload(input) as Payload;
  const inner = Buffer.from(
    JSON.stringify({
      metadata: { encoding: Buffer.from(plain.metadata?.encoding ?? []).toString('base64') },
      data: Buffer.from(plain.data ?? []).toString('base64'),
    }),
  );
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from('ciu-payload-v1:k1'));
  const sealed = Buffer.concat([cipher.update(inner), cipher.final()]);
  const old: Payload = {
    metadata: { encoding: Buffer.from(encryptedEncoding), [keyIdMetadata]: Buffer.from('k1') },
    data: Buffer.concat([iv, cipher.getAuthTag(), sealed]),
  };
  const [decoded] = await new EncryptionCodec(ring).decode([old]);
  expect(defaultPayloadConverter.fromPayload(decoded as Payload)).toEqual(input);

  const [framed] = (await new EncryptionCodec(ring).encode([plain])) as [Payload];
  expect(text(framed.metadata?.[framingMetadata])).toBe('binary-v2');
  const relabelled = { ...framed, metadata: { ...framed.metadata, [framingMetadata]: Buffer.from('json') } };
  await expect(new EncryptionCodec(ring).decode([relabelled])).rejects.toThrow('does not authenticate');
});
