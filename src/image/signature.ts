import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ciuSignatureLayout as layout } from './ciu-codec';

/** A key file that is not what it should be (not PEM, not Ed25519, a private key where a public one belongs). */
export class ImageKeyError extends Error {
  override readonly name = 'ImageKeyError';
}

/** An Ed25519 private key that signs image headers, with the id its signatures carry. */
export interface ImageSigningKey {
  /** 16 hex digits: the start of the SHA-256 of the raw public key. */
  readonly keyId: string;
  readonly privateKey: KeyObject;
}

/** Public keys of the image signers a worker trusts, by key id. */
export type TrustedImageKeys = ReadonlyMap<string, KeyObject>;

/** What checkImageSignature found. */
export type SignatureCheck =
  | { status: 'trusted'; keyId: string }
  | { status: 'unsigned' }
  /** Signed by a key this worker does not list. */
  | { status: 'untrusted'; keyId: string }
  /** Signed in the name of a trusted key, but the signature does not match the header: changed after signing. */
  | { status: 'invalid'; keyId: string };

function ed25519(key: KeyObject, source: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519')
    throw new ImageKeyError(`${source} is a ${key.asymmetricKeyType ?? 'symmetric'} key, not Ed25519`);
  return key;
}

/** The id a key's signatures carry: the first 8 bytes of the SHA-256 of its raw 32-byte public key, in hex. */
export function imageKeyId(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  return createHash('sha256').update(raw).digest().subarray(0, layout.keyIdLength).toString('hex');
}

/** A fresh Ed25519 key pair as PEM texts (PKCS#8 private key, SPKI public key) and its key id. */
export function generateImageKeyPair(): { keyId: string; privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    keyId: imageKeyId(publicKey),
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

/** The signing key in a PEM text (as `ciu image keygen` writes it); `source` names it in errors. */
export function signingKeyFromPem(pem: string, source: string): ImageSigningKey {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new ImageKeyError(`${source} is not a PEM private key (make one with \`ciu image keygen\`)`);
  }
  const privateKey = ed25519(key, source);
  return { keyId: imageKeyId(privateKey), privateKey };
}

/** A public key in a PEM text; a private key is refused, so a worker's configuration never holds one. */
export function trustedKeyFromPem(pem: string, source: string): KeyObject {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem))
    throw new ImageKeyError(
      `${source} holds a private key: a worker trusts public keys only (the .pub file)`,
    );
  try {
    return ed25519(createPublicKey(pem), source);
  } catch (err) {
    if (err instanceof ImageKeyError) throw err;
    throw new ImageKeyError(`${source} is not a PEM public key (the .pub file of \`ciu image keygen\`)`);
  }
}

/** Reads the trusted public keys from PEM files (one key each). */
export async function readTrustedImageKeys(files: readonly string[]): Promise<TrustedImageKeys> {
  const keys = new Map<string, KeyObject>();
  for (const file of files) {
    const pem = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new ImageKeyError(`image key file ${file} cannot be read: ${err.code ?? err.message}`);
    });
    const key = trustedKeyFromPem(pem, `image key file ${file}`);
    keys.set(imageKeyId(key), key);
  }
  return keys;
}

/** Trusted keys from public KeyObjects (tests and the dev kit, which make their keys in memory). */
export function trustedImageKeys(...keys: KeyObject[]): TrustedImageKeys {
  return new Map(keys.map((key) => [imageKeyId(key), key.type === 'private' ? createPublicKey(key) : key]));
}

/** A copy of an encoded (unsigned) header, signed by `key`. */
export function signImageHeader(header: Buffer, key: ImageSigningKey): Buffer {
  return layout.sign(header, Buffer.from(key.keyId, 'hex'), (signed) => sign(null, signed, key.privateKey));
}

/** Checks the signature of a header that parseImageHeader accepted, against the trusted keys. */
export function checkImageSignature(header: Buffer, trusted: TrustedImageKeys): SignatureCheck {
  const keyIdBytes = layout.keyId(header);
  if (keyIdBytes.every((byte) => byte === 0)) return { status: 'unsigned' };
  const keyId = keyIdBytes.toString('hex');
  const key = trusted.get(keyId);
  if (!key) return { status: 'untrusted', keyId };
  return verify(null, layout.signedBytes(header), key, layout.signature(header))
    ? { status: 'trusted', keyId }
    : { status: 'invalid', keyId };
}
