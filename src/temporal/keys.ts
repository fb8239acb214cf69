/**
 * Key files: the payload-encryption keys (worker, `ciu` and its codec server) and the
 * message-authentication keys (workers only). One format for both:
 *
 * ```yaml
 * current: 2026-11        # the key new payloads/messages use
 * keys:
 *   2026-11: <32 random bytes, base64>
 *   2026-05: <…>          # older keys still decrypt/verify what they wrote
 * ```
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

/** Keys by id, and the id new data is written with. */
export interface KeyRing {
  current: string;
  keys: ReadonlyMap<string, Buffer>;
}

/** A key file that cannot be used; the message names the file and the field. */
export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
}

const keyIdPattern = /^[A-Za-z0-9._-]{1,64}$/;
const keyBytes = 32;

/** Checks a parsed key file; `where` names it in messages. */
export function parseKeyRing(where: string, raw: unknown): KeyRing {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new KeyFileError(`${where} must be a mapping with current and keys`);
  const { current, keys } = raw as { current?: unknown; keys?: unknown };
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys))
    throw new KeyFileError(`${where}.keys must map key ids to base64 keys`);
  const ring = new Map<string, Buffer>();
  for (const [id, value] of Object.entries(keys as Record<string, unknown>)) {
    if (!keyIdPattern.test(id))
      throw new KeyFileError(`${where}.keys has a bad key id "${id.slice(0, 64)}" (letters, digits, . _ -)`);
    const bytes = typeof value === 'string' ? Buffer.from(value, 'base64') : Buffer.alloc(0);
    if (bytes.length !== keyBytes)
      throw new KeyFileError(`${where}.keys.${id} must be ${keyBytes} bytes in base64`);
    ring.set(id, bytes);
  }
  if (typeof current !== 'string' || !ring.has(current))
    throw new KeyFileError(`${where}.current must name one of its keys`);
  return { current, keys: ring };
}

/** Reads a key file; refuses one that group or others can read, as the credential store does. */
export function loadKeyRing(file: string): KeyRing {
  if (!existsSync(file)) throw new KeyFileError(`key file ${file} does not exist`);
  const { mode } = statSync(file);
  if ((mode & 0o044) !== 0)
    throw new KeyFileError(
      `key file ${file} is readable by group or others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`,
    );
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new KeyFileError(`key file ${file} is not YAML/JSON: ${(err as Error).message}`);
  }
  return parseKeyRing(`key file ${file}`, raw);
}

/** A key id for a key made now: the UTC date and time, e.g. 20261127-174200. */
function newKeyId(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/**
 * Adds a fresh random key to `file` (creating it, mode 600) and makes it current; the keys already
 * there stay, so what they encrypted or signed still decodes. Returns the new key's id.
 */
export function addKeyToFile(file: string, options: { id?: string; now?: Date } = {}): string {
  const ring = existsSync(file) ? loadKeyRing(file) : undefined;
  const id = options.id ?? newKeyId(options.now ?? new Date());
  if (!keyIdPattern.test(id)) throw new KeyFileError(`--id "${id}" must be letters, digits, . _ - (1–64)`);
  if (ring?.keys.has(id)) throw new KeyFileError(`key file ${file} already has a key ${id}`);
  const keys: Record<string, string> = { [id]: randomBytes(keyBytes).toString('base64') };
  for (const [old, bytes] of ring?.keys ?? []) keys[old] = bytes.toString('base64');
  writeFileSync(file, stringifyYaml({ current: id, keys }), { mode: 0o600 });
  chmodSync(file, 0o600);
  return id;
}

/** A ring of one fresh key (tests, a single-process demo). */
export function generateKeyRing(id = 'k1'): KeyRing {
  return { current: id, keys: new Map([[id, randomBytes(keyBytes)]]) };
}
