import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ImageKeyError,
  buildImage,
  checkImageSignature,
  describeImageHeader,
  encodeImageHeader,
  generateImageKeyPair,
  imageKeyId,
  parseImageHeader,
  readTrustedImageKeys,
  signImageHeader,
  signingKeyFromPem,
  trustedImageKeys,
  verifyImageFile,
} from '../../src/image';
import { validate } from '../../src/domain/config';
import { upgradeProfileSchema, verifyImageInputSchema } from '../../src/domain/schemas';

const fields = {
  imageType: '72xx',
  version: '6.5.1.0',
  build: 66000,
  payloadLength: 4,
  payloadSha256: createHash('sha256').update('tiny').digest('hex'),
};
const pair = generateImageKeyPair();
const signer = signingKeyFromPem(pair.privateKeyPem, 'test key');
const trusted = trustedImageKeys(signer.privateKey);

function resealed(buf: Buffer): Buffer {
  createHash('sha256').update(buf.subarray(0, 224)).digest().copy(buf, 224);
  return buf;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ciu-signature-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a signed header parses, names its key and verifies against the trusted key', () => {
  const header = signImageHeader(encodeImageHeader(fields), signer);
  expect(signer.keyId).toMatch(/^[0-9a-f]{16}$/);
  expect(signer.keyId).toBe(pair.keyId);
  expect(parseImageHeader(header)).toEqual({ formatVersion: 1, ...fields, signedBy: signer.keyId });
  expect(checkImageSignature(header, trusted)).toEqual({ status: 'trusted', keyId: signer.keyId });
});

test('an unsigned header is still a valid format 1 header, and says so', () => {
  const header = encodeImageHeader(fields);
  expect(parseImageHeader(header).signedBy).toBeUndefined();
  expect(checkImageSignature(header, trusted)).toEqual({ status: 'unsigned' });
});

test("another key's signature is untrusted; no key at all trusts nothing", () => {
  const stranger = signingKeyFromPem(generateImageKeyPair().privateKeyPem, 'stranger');
  const header = signImageHeader(encodeImageHeader(fields), stranger);
  expect(checkImageSignature(header, trusted)).toEqual({ status: 'untrusted', keyId: stranger.keyId });
  expect(checkImageSignature(signImageHeader(encodeImageHeader(fields), signer), new Map())).toEqual({
    status: 'untrusted',
    keyId: signer.keyId,
  });
});

test.each([
  ['the version', (b: Buffer) => b.write('6.6', 28, 'latin1')],
  ['the build', (b: Buffer) => b.writeUInt32BE(66001, 60)],
  ['the payload SHA-256', (b: Buffer) => (b[72] = (b[72] ?? 0) ^ 1)],
  ['the key id', (b: Buffer) => (b[104] = (b[104] ?? 0) ^ 1)],
])('changing %s after signing (checksum recomputed) breaks the signature', (_what, change) => {
  const header = signImageHeader(encodeImageHeader(fields), signer);
  change(header);
  resealed(header);
  expect(() => parseImageHeader(header)).not.toThrow();
  expect(checkImageSignature(header, trusted).status).toMatch(/^(invalid|untrusted)$/);
});

test('a changed field under a trusted key id is invalid, not merely untrusted', () => {
  const header = resealed(signImageHeader(encodeImageHeader(fields), signer));
  header.writeUInt32BE(66001, 60);
  expect(checkImageSignature(resealed(header), trusted)).toEqual({ status: 'invalid', keyId: signer.keyId });
});

test('a header with a key id but no signature is refused by the parser', () => {
  const header = encodeImageHeader(fields);
  header[104] = 1;
  expect(() => parseImageHeader(resealed(header))).toThrow(/signature is half there/);
});

test('buildImage signs a streamed payload; the file verifies and describes its signer', async () => {
  const payload = join(dir, 'payload');
  await writeFile(payload, Buffer.alloc(300_000, 7));
  const out = join(dir, 'signed.img');
  const header = await buildImage({
    payload,
    imageType: '70xx',
    version: '6.5.1.0',
    build: 3,
    out,
    sign: signer,
  });
  expect(header.signedBy).toBe(signer.keyId);
  await expect(verifyImageFile(out)).resolves.toEqual(header);
  const bytes = await readFile(out);
  expect(checkImageSignature(bytes.subarray(0, 256), trusted).status).toBe('trusted');
  expect(describeImageHeader(header)).toContain(`signed by   key ${signer.keyId}`);
});

test('trusted keys come from public-key files; a private key or another key type is refused', async () => {
  const pub = join(dir, 'release.pub');
  await writeFile(pub, pair.publicKeyPem);
  const keys = await readTrustedImageKeys([pub]);
  expect([...keys.keys()]).toEqual([signer.keyId]);
  expect(imageKeyId(keys.get(signer.keyId)!)).toBe(signer.keyId);

  const priv = join(dir, 'release.key');
  await writeFile(priv, pair.privateKeyPem);
  await expect(readTrustedImageKeys([priv])).rejects.toThrow(
    `image key file ${priv} holds a private key: a worker trusts public keys only (the .pub file)`,
  );
  const rsa = join(dir, 'rsa.pub');
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  await writeFile(rsa, publicKey.export({ format: 'pem', type: 'spki' }));
  await expect(readTrustedImageKeys([rsa])).rejects.toThrow(
    `image key file ${rsa} is a rsa key, not Ed25519`,
  );
  await expect(readTrustedImageKeys([join(dir, 'missing.pub')])).rejects.toBeInstanceOf(ImageKeyError);
  expect(() => signingKeyFromPem(pair.publicKeyPem, '--sign release.pub')).toThrow(
    '--sign release.pub is not a PEM private key',
  );
});

test('allowUnsigned is a boolean, named when wrong, in the profile and the verifyImage input', () => {
  const profile = validate(upgradeProfileSchema, { models: {}, allowUnsigned: 'yes' }, 'profile');
  expect(profile).toEqual({ ok: false, issues: ['profile.allowUnsigned must be true or false'] });
  const accepted = validate(upgradeProfileSchema, { models: {}, allowUnsigned: true });
  expect(accepted.ok && accepted.value.allowUnsigned).toBe(true);
  const input = validate(
    verifyImageInputSchema,
    {
      source: { imageFile: 'img', server: { host: '127.0.0.1' }, protocol: 'http' },
      models: ['A7210'],
      allowUnsigned: 1,
    },
    'verifyImage',
  );
  expect(input).toEqual({ ok: false, issues: ['verifyImage.allowUnsigned must be true or false'] });
});
