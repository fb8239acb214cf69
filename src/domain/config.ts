import { z } from 'zod';
import { dialectNames } from './dialects';
import { parseDuration } from './duration';
import { isKnownModel, knownModels } from './models';
import { isCredentialsRef, isHost, isHostKeyFingerprint, isIPv4, fileNameProblem, protocols } from './rules';
import { parseSelector, resolveTargets } from './targets';
import type { CampaignConfig } from './types';

// The workflow sandbox forbids code generation; zod's JIT would probe `new Function` there.
z.config({ jitless: true });

/** Raised for a campaign config that fails validation; each issue names its field. */
export class InvalidConfigError extends Error {
  override readonly name = 'InvalidConfigError';
  constructor(readonly issues: readonly string[]) {
    super(issues.join('; '));
  }
}

const secretKeyPattern = /^(password|passwd|passphrase|privatekey|secret|token|apikey)$/i;
const versionPattern = /^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$/;

const host = z.string().refine(isHost, 'must be an IPv4 address or host name');
const port = z.number().int('must be a whole number').min(1, 'must be >= 1').max(65535, 'must be <= 65535');
const credentialsRef = z
  .string()
  .refine(isCredentialsRef, 'must be a credentials reference name (letters, digits, . _ -)');
const hostKey = z.string().refine(isHostKeyFingerprint, "must be a host-key fingerprint 'SHA256:<base64>'");

const controllerSchema = z.strictObject({
  ip: z.string().refine(isIPv4, 'must be an IPv4 address'),
  model: z.string().refine(isKnownModel, {
    error: (issue) => `"${String(issue.input)}" is not a known controller model (${knownModels.join(', ')})`,
  }),
  role: z.enum(['local', 'standby'], "must be 'local' or 'standby'"),
  ssh: z.strictObject({ host, port: port.default(22), hostKey: hostKey.optional() }),
  credentialsRef,
  dialect: z.enum(dialectNames, `must be one of ${dialectNames.join(', ')}`).optional(),
});

const modelImageSchema = z.strictObject({
  imageFile: z.string().superRefine((name, ctx) => {
    const problem = fileNameProblem(name);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  server: z.strictObject({ host, port: port.optional(), hostKey: hostKey.optional() }),
  protocol: z.enum(protocols, `must be one of ${protocols.join(', ')}`),
  credentialsRef: credentialsRef.optional(),
  expectedVersion: z.string().regex(versionPattern, 'must be a version like 6.4.0.0').optional(),
  expectedBuild: z.number().int('must be a whole number').min(0, 'must be >= 0').optional(),
});

const duration = (atLeastMs: number, what: string) =>
  z
    .string()
    .refine(
      (d) => (parseDuration(d) ?? -1) >= atLeastMs,
      `must be a duration of at least ${what} ('15m', '30s', '2h')`,
    );

const profileSchema = z.strictObject({
  models: z.record(z.string(), modelImageSchema),
  autoboot: z.boolean('must be true or false').default(false),
  maxDownloads: z.number('must be a number').int('must be a whole number').min(1, 'must be >= 1').default(10),
  retryInterval: duration(1_000, '1s').default('15m'),
  quickTries: z
    .number('must be a number')
    .int('must be a whole number')
    .min(1, 'must be >= 1')
    .max(100, 'must be <= 100')
    .default(3),
  partition: z
    .union([z.literal('non-boot'), z.literal(0), z.literal(1)], "must be 'non-boot', 0 or 1")
    .default('non-boot'),
  quickTryBackoff: duration(0, '0s').optional(),
});

const campaignSchema = z
  .strictObject({
    inventory: z.array(controllerSchema, 'must be a list of controllers'),
    profile: profileSchema,
    targets: z.array(
      z.string('must be a string').refine((t) => parseSelector(t) !== undefined, {
        error: (issue) => `"${String(issue.input)}" is not an IPv4 address or CIDR subnet`,
      }),
      'must be a list of selectors',
    ),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.inventory.forEach((controller, index) => {
      if (seen.has(controller.ip))
        ctx.addIssue({
          code: 'custom',
          path: ['inventory', index, 'ip'],
          message: `${controller.ip} is listed twice`,
        });
      seen.add(controller.ip);
    });
    for (const model of Object.keys(config.profile.models)) {
      if (!isKnownModel(model))
        ctx.addIssue({
          code: 'custom',
          path: ['profile', 'models', model],
          message: 'is not a known controller model',
        });
    }
    const { controllers } = resolveTargets(config.inventory as CampaignConfig['inventory'], config.targets);
    const missing = new Map<string, string[]>();
    for (const controller of controllers) {
      if (isKnownModel(controller.model) && !config.profile.models[controller.model])
        missing.set(controller.model, [...(missing.get(controller.model) ?? []), controller.ip]);
    }
    for (const [model, ips] of missing) {
      ctx.addIssue({
        code: 'custom',
        path: ['profile', 'models', model],
        message: `is missing: targets include ${model} controllers (${ips.slice(0, 5).join(', ')}${ips.length > 5 ? ', …' : ''})`,
      });
    }
  });

/** What "write memory" accepts before defaults are filled in. */
export type CampaignConfigInput = z.input<typeof campaignSchema>;

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

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string[] {
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((key) => `${formatPath([...issue.path, key])} is not a known field`);
  if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined)
    return [`${formatPath(issue.path)} is required`];
  return [`${formatPath(issue.path)} ${issue.message}`];
}

/** Validation result: the config with defaults filled in, or one message per problem, each naming its field. */
export type ConfigValidation = { ok: true; config: CampaignConfig } | { ok: false; issues: string[] };

/** Validates a campaign config (CLI, API, workflow input, commitConfig validator all use this). */
export function validateCampaignConfig(input: unknown): ConfigValidation {
  const secrets = secretFieldIssues(input);
  if (secrets.length > 0) return { ok: false, issues: secrets };
  const result = campaignSchema.safeParse(input);
  if (!result.success)
    return { ok: false, issues: result.error.issues.flatMap((issue) => describeIssue(issue, input)) };
  return { ok: true, config: result.data as CampaignConfig };
}

/** Like validateCampaignConfig, but throws InvalidConfigError. */
export function parseCampaignConfig(input: unknown): CampaignConfig {
  const result = validateCampaignConfig(input);
  if (!result.ok) throw new InvalidConfigError(result.issues);
  return result.config;
}
