/**
 * The config store: a directory every worker can read (a volume they all mount), holding campaign
 * configs passed by reference (src/domain/config-ref.ts). Each object is `<sha256>.json`, the config's
 * canonical JSON named by its hash: written once, never overwritten, so a reference always reads the
 * config it was made from, and every revision of a campaign is its own object.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../domain/canonical-json';
import { configHashPattern, maxReferencedConfigBytes, type ConfigRef } from '../domain/config-ref';
import type { CampaignConfig } from '../domain/types';

/** Why a referenced config cannot be read: `code` says which check failed. */
export class ConfigStoreError extends Error {
  override readonly name = 'ConfigStoreError';
  constructor(
    message: string,
    readonly code: 'not-found' | 'size-mismatch' | 'hash-mismatch' | 'too-large' | 'not-json',
  ) {
    super(message);
  }
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The object's path; `ref.sha256` is validated as 64 hex digits first, so it names a file in `dir` only. */
function objectPath(dir: string, hash: string): string {
  if (!configHashPattern.test(hash)) throw new TypeError('configRef.sha256 must be 64 lowercase hex digits');
  return join(dir, `${hash}.json`);
}

/**
 * Writes a validated config to the store (once: an object already there is kept) and returns its
 * reference. The hash is the campaign's config hash (`ciu write memory` puts it in the memo).
 */
export function putConfig(dir: string, config: CampaignConfig): ConfigRef {
  const bytes = Buffer.from(canonicalJson(config), 'utf8');
  const ref = { sha256: sha256(bytes), bytes: bytes.length };
  const path = objectPath(dir, ref.sha256);
  try {
    readConfig(dir, ref);
    return ref;
  } catch (err) {
    if (!(err instanceof ConfigStoreError && err.code === 'not-found')) throw err;
  }
  mkdirSync(dir, { recursive: true });
  // Written aside and renamed, so a reader never sees half an object.
  const partial = `${path}.${process.pid}.partial`;
  try {
    writeFileSync(partial, bytes, { mode: 0o644, flag: 'wx' });
    renameSync(partial, path);
  } finally {
    rmSync(partial, { force: true });
  }
  return ref;
}

/**
 * The config `ref` names, parsed but not validated (the workflow validates it as it would an inline
 * one). Reads at most `ref.bytes`, which is bounded, and checks the length and the hash.
 */
export function readConfig(dir: string, ref: ConfigRef): unknown {
  if (ref.bytes > maxReferencedConfigBytes)
    throw new ConfigStoreError(
      `configRef.bytes: ${ref.bytes} is over the limit of ${maxReferencedConfigBytes} bytes`,
      'too-large',
    );
  let fd: number;
  try {
    fd = openSync(objectPath(dir, ref.sha256), 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new ConfigStoreError(
        `configRef.sha256: no config ${ref.sha256} in the worker's config store (write it with \`ciu write config-store\`, or \`ciu write memory\`)`,
        'not-found',
      );
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    if (size !== ref.bytes)
      throw new ConfigStoreError(
        `configRef.bytes: the stored config ${ref.sha256} has ${size} bytes, the reference says ${ref.bytes}`,
        'size-mismatch',
      );
    const bytes = Buffer.alloc(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, bytes, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    if (read !== size || sha256(bytes) !== ref.sha256)
      throw new ConfigStoreError(
        `configRef.sha256: the stored config ${ref.sha256} does not hash to its name (changed or damaged in the store)`,
        'hash-mismatch',
      );
    try {
      return JSON.parse(bytes.toString('utf8')) as unknown;
    } catch {
      throw new ConfigStoreError(`configRef.sha256: the stored config ${ref.sha256} is not JSON`, 'not-json');
    }
  } finally {
    closeSync(fd);
  }
}
