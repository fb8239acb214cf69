/**
 * A campaign config passed by reference: `ciu write memory` (or `ciu write config-store`) writes the
 * config once to the workers' config store, named by its SHA-256, and the workflow's input carries
 * only `{ configRef: { sha256, bytes } }`. A worker reads the object, checks both, and the master
 * goes on as if it had been given the config itself. An object is never overwritten (its name is its
 * hash), so a reference always means one config. Pure: the workflows use it too.
 */
import { z } from 'zod';
import { validate, type Validation } from './config';

/**
 * Bytes of a config passed by reference, as JSON: 100,000 inventory entries are about 11.7 MB. The
 * master holds it deflated (about 40×), under Temporal's 2 MiB limit per payload.
 */
export const maxReferencedConfigBytes = 16_000_000;

/** A config's name in the store: its SHA-256, lowercase hex (nothing else can name a file there). */
export const configHashPattern = /^[0-9a-f]{64}$/;

/** Where a referenced config is: its SHA-256 (of its canonical JSON, the campaign's config hash) and its length. */
export interface ConfigRef {
  sha256: string;
  bytes: number;
}

/** A workflow input or commitConfig argument that names a stored config instead of holding it. */
export interface ConfigByReference {
  configRef: ConfigRef;
}

const configRefSchema = z
  .object({
    configRef: z
      .object({
        sha256: z.string().regex(configHashPattern, 'must be 64 lowercase hex digits (the config hash)'),
        bytes: z
          .number()
          .int()
          .positive()
          .max(
            maxReferencedConfigBytes,
            `must be at most ${maxReferencedConfigBytes} (bytes of the config as JSON)`,
          ),
      })
      .strict(),
  })
  .strict();

/** Whether `input` is meant as a reference (it has `configRef`), right or wrong: the rest is validateConfigRef's. */
export function isConfigByReference(input: unknown): input is ConfigByReference {
  return typeof input === 'object' && input !== null && 'configRef' in input;
}

/** `input` as a reference, or what is wrong with it, each issue naming its field. */
export function validateConfigRef(input: unknown): Validation<ConfigRef> {
  const result = validate(configRefSchema, input);
  return result.ok ? { ok: true, value: result.value.configRef } : result;
}
