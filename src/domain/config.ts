import type { z } from 'zod';
import { cleanText } from './clean-text';
import { campaignConfigSchema, type CampaignConfig } from './schemas';

const secretKeyPattern = /^(password|passwd|passphrase|privatekey|secret|token|apikey)$/i;

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    return text ? `${text}.${String(key)}` : String(key);
  }, '');
}

/** One message per field named like a secret (password, privateKey, secret, …) anywhere in `value`. */
export function secretFieldIssues(value: unknown, path: PropertyKey[] = []): string[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => secretFieldIssues(item, [...path, index]));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    secretKeyPattern.test(key)
      ? [
          `${formatPath([...path, key])} is not accepted: secrets never go into a campaign; use credentialsRef (a name in the worker's credential store)`,
        ]
      : secretFieldIssues(inner, [...path, key]),
  );
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (value, key) =>
      value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined,
    input,
  );
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown, prefix: PropertyKey[]): string[] {
  const field = (path: readonly PropertyKey[]) => formatPath([...prefix, ...path]) || 'input';
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((key) => `${field([...issue.path, key])} is not a known field`);
  if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined)
    return [`${field(issue.path)} is required`];
  return [`${field(issue.path)} ${issue.message}`];
}

/** A validated value with defaults filled in, or one message per problem, each naming its field. */
export type Validation<T> = { ok: true; value: T } | { ok: false; issues: string[] };

/**
 * Validates `input` against one of the domain schemas (src/domain/schemas.ts). Fields named like a
 * secret are refused first, without echoing them. `prefix` names the whole input in messages
 * ('verifyImage' → 'verifyImage.source.imageFile must be …').
 */
export function validate<S extends z.ZodType>(
  schema: S,
  input: unknown,
  prefix?: string,
): Validation<z.output<S>> {
  const secrets = secretFieldIssues(input, prefix ? [prefix] : []);
  if (secrets.length > 0) return { ok: false, issues: secrets.map((issue) => cleanText(issue)) };
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  // Messages echo field names and values of the input (a map key, a bad model or selector): whoever
  // sent it chose them, and the messages reach terminals and the Web UI, so they are cleaned.
  return {
    ok: false,
    issues: result.error.issues
      .flatMap((issue) => describeIssue(issue, input, prefix ? [prefix] : []))
      .map((issue) => cleanText(issue)),
  };
}

/** Validation result: the config with defaults filled in, or one message per problem, each naming its field. */
export type ConfigValidation = { ok: true; config: CampaignConfig } | { ok: false; issues: string[] };

/** Validates a campaign config (CLI, API, workflow input, commitConfig validator all use this). */
export function validateCampaignConfig(input: unknown): ConfigValidation {
  const result = validate(campaignConfigSchema, input);
  return result.ok ? { ok: true, config: result.value } : result;
}

export type { CampaignConfigInput } from './schemas';
