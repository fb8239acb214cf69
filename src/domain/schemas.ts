/**
 * The zod schemas every layer validates with — `write memory`, masterUpgrade and its commitConfig
 * validator, controllerUpgrade, verifyImage — and the only definition of their TypeScript types
 * (`z.infer`). Value rules come from ./rules; nothing here does I/O.
 */
import { z } from 'zod';
import './zod-config';
import { dialectNames } from './dialects';
import { parseDuration } from './duration';
import { isKnownModel, knownModels, type ControllerModel } from './models';
import {
  isCredentialsRef,
  isHost,
  isHostKeyFingerprint,
  isIPv4,
  isVersion,
  fileNameProblem,
  protocols,
} from './rules';
import { redundancyGroupPattern, redundancyRoles } from './redundancy';
import { parseSelector, resolveTargets } from './targets';
import { clockPattern, isInstant, isTimeZone, weekdays } from './windows';
import { waveFields } from './waves';

const sha256Pattern = /^[0-9a-f]{64}$/;

/** Inside a superRefine: `listed(ip, path)` adds "<ip> is listed twice" at `path` when `ip` came before. */
export function repeatedIps(ctx: z.RefinementCtx): (ip: string, path: PropertyKey[]) => void {
  const seen = new Set<string>();
  return (ip, path) => {
    if (seen.has(ip)) ctx.addIssue({ code: 'custom', path, message: `${ip} is listed twice` });
    seen.add(ip);
  };
}

const wholeNumber = (min: number) =>
  z.number('must be a number').int('must be a whole number').min(min, `must be >= ${min}`);
const host = z.string('must be a string').refine(isHost, 'must be an IPv4 address or host name');
const port = wholeNumber(1).max(65535, 'must be <= 65535');
const credentialsRef = z
  .string('must be a string')
  .refine(isCredentialsRef, 'must be a credentials reference name (letters, digits, . _ -)');
const hostKey = z
  .string('must be a string')
  .refine(isHostKeyFingerprint, "must be a host-key fingerprint 'SHA256:<base64>'");
const imageFile = z.string('must be a string').superRefine((name, ctx) => {
  const problem = fileNameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const version = z.string('must be a string').refine(isVersion, 'must be a version like 6.4.0.0');
const partition = z.union([z.literal(0), z.literal(1)], 'must be 0 or 1');
/** The longest reboot-timeout a profile may set. */
export const maxRebootTimeoutMs = 2 * 60 * 60_000;

const duration = (atLeastMs: number, what: string) =>
  z
    .string('must be a string')
    .refine(
      (d) => (parseDuration(d) ?? -1) >= atLeastMs,
      `must be a duration of at least ${what} and at most 365d ('15m', '30s', '2h')`,
    );
/** How long a reloaded controller may stay silent: real ones take minutes; over 2 h it is lost, not slow. */
const rebootTimeout = z.string('must be a string').refine((d) => {
  const ms = parseDuration(d) ?? -1;
  return ms >= 1_000 && ms <= maxRebootTimeoutMs;
}, "must be a duration between 1s and 2h ('10m', '90s')");

/** A controller model ciu knows (src/domain/models.ts). */
export const controllerModelSchema = z.custom<ControllerModel>(
  (model) => typeof model === 'string' && isKnownModel(model),
  {
    error: (issue) => `"${String(issue.input)}" is not a known controller model (${knownModels.join(', ')})`,
  },
);

/** An image-server protocol. */
export const protocolSchema = z.enum(protocols, `must be one of ${protocols.join(', ')}`);

/**
 * An SSH endpoint. Its host key is always checked: against `hostKey` when given ('SHA256:<base64>',
 * as `ssh-keygen -lf` prints), otherwise against the worker's known_hosts file (CIU_KNOWN_HOSTS).
 * An endpoint with neither is refused, never trusted on first use.
 */
export const sshEndpointSchema = z.strictObject({
  host,
  /** Default 22. */
  port: port.default(22),
  hostKey: hostKey.optional(),
});

/** An associated (local or standby) controller, as the master's inventory lists it. */
export const controllerSchema = z.strictObject({
  /** IPv4 address: the controller's identity in targets, status and workflow IDs. */
  ip: z.string('must be a string').refine(isIPv4, 'must be an IPv4 address'),
  model: controllerModelSchema,
  role: z.enum(['local', 'standby'], "must be 'local' or 'standby'"),
  /** Where its CLI answers over SSH. */
  ssh: sshEndpointSchema,
  /** Name of the SSH login credentials in the worker's credential store (never the secret itself). */
  credentialsRef,
  /** CLI dialect (src/domain/dialects.ts). Default 'arubaos'. */
  dialect: z.enum(dialectNames, `must be one of ${dialectNames.join(', ')}`).optional(),
  /** Redundancy group (a master/standby pair, a cluster): its members never reboot at the same time. */
  group: z
    .string('must be a string')
    .regex(redundancyGroupPattern, 'must be a group name (letters, digits, . _ -, at most 64)')
    .optional(),
  /** Its role in the group: the standby reboots before the active. Absent: no order, one at a time. */
  redundancy: z.enum(redundancyRoles, `must be one of ${redundancyRoles.join(', ')}`).optional(),
});

/** Where an image lives. `port` defaults to the protocol's; without `hostKey`, known_hosts decides (scp/sftp). */
export const imageServerSchema = z.strictObject({
  host,
  port: port.optional(),
  hostKey: hostKey.optional(),
});

/** Where one image is, as the profile names it. Credentials travel as a reference only. */
export const imageSourceSchema = z.strictObject({
  /** File name on the image server (rules.fileNameProblem). */
  imageFile,
  server: imageServerSchema,
  protocol: protocolSchema,
  /** Credential-store name for ftp/ftps/scp/sftp logins. */
  credentialsRef: credentialsRef.optional(),
});

/** What the profile may demand of an image's header. */
const expectedImage = {
  /** When given, the image header must carry exactly this version / build. */
  expectedVersion: version.optional(),
  expectedBuild: wholeNumber(0).optional(),
};

/** Profile entry for one controller model. */
export const modelImageSchema = imageSourceSchema.extend(expectedImage);

const instant = z
  .string('must be a string')
  .refine(isInstant, "must be an ISO 8601 time with a zone, e.g. '2026-12-01T02:00:00Z'");
const clock = z.string('must be a string').regex(clockPattern, "must be a time of day 'HH:MM' (00:00-23:59)");

const recurringWindowSchema = z.strictObject({
  start: clock,
  end: clock,
  days: z
    .array(z.enum(weekdays, `must be one of ${weekdays.join(', ')}`), 'must be a list of weekdays')
    .min(1, 'must name at least one weekday')
    .optional(),
  timeZone: z
    .string('must be a string')
    .refine(isTimeZone, "must be an IANA time zone, e.g. 'Europe/Berlin' or 'UTC'")
    .optional(),
});
const oneOffWindowSchema = z
  .strictObject({ from: instant, until: instant })
  .refine((w) => Date.parse(w.until) > Date.parse(w.from), {
    message: 'must end after it starts',
    path: ['until'],
  });

/**
 * A maintenance window: recurring (`start`/`end` local time, optional `days` and `timeZone`) or
 * one-off (`from`/`until`). Which one is decided by `from`, so a refusal names the field at fault.
 */
export const maintenanceWindowSchema = z
  .custom<z.infer<typeof recurringWindowSchema> | z.infer<typeof oneOffWindowSchema>>(
    (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
    "must be a recurring window { start: 'HH:MM', end: 'HH:MM', days?, timeZone? } or a one-off { from, until }",
  )
  .superRefine((value, ctx) => {
    const schema = 'from' in value || 'until' in value ? oneOffWindowSchema : recurringWindowSchema;
    const result = schema.safeParse(value);
    if (!result.success)
      for (const issue of result.error.issues)
        ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  });

/** The rollout controls a controller's upgrade follows: pre-checks, fallback, windows, start time. */
const rolloutFields = {
  /** Check model, target partition and free flash before any download. Default true. */
  preChecks: z.boolean('must be true or false').optional(),
  /** Boot a controller that comes back on the wrong image back into the partition it ran before. Default false. */
  fallback: z.boolean('must be true or false').optional(),
  /** When downloads may start; absent: any time. A download under way when it closes finishes. */
  downloadWindow: maintenanceWindowSchema.optional(),
  /** When reloads may be sent; absent: any time. */
  rebootWindow: maintenanceWindowSchema.optional(),
  /** Nothing starts on a controller before this instant (`upgrade campaign start-at`). */
  startAt: instant.optional(),
};

/** The upgrade profile ("upgrade-profile" in ArubaOS). */
export const upgradeProfileSchema = z.strictObject({
  models: z.record(z.string(), modelImageSchema),
  /** Reboot into the new image after a verified download. Default false. */
  autoboot: z.boolean('must be true or false').default(false),
  /** Controllers downloading at once across the campaign. Default 10. */
  maxDownloads: wholeNumber(1).default(10),
  /** Wait between download cycles, as a duration ('15m', '30s'). Default '15m'. */
  retryInterval: duration(1_000, '1s').default('15m'),
  /** Download attempts in quick succession per cycle. Default 3. */
  quickTries: wholeNumber(1).max(100, 'must be <= 100').default(3),
  /** Partition to write: 'non-boot' (default) or 0 / 1. */
  partition: z
    .union([z.literal('non-boot'), z.literal(0), z.literal(1)], "must be 'non-boot', 0 or 1")
    .default('non-boot'),
  /** Pause between the quick tries of one cycle, as a duration. Default '5s'. */
  quickTryBackoff: duration(0, '0s').optional(),
  /** How long a controller may stay unreachable after reload, as a duration (1s–2h). Default '10m'. */
  rebootTimeout: rebootTimeout.optional(),
  /**
   * Accept images without a signature of a key the worker trusts (unsigned, or signed by an unknown
   * key); a signature that fails against a trusted key is refused all the same. Default false.
   */
  allowUnsigned: z.boolean('must be true or false').optional(),
  ...rolloutFields,
  ...waveFields,
});

/** A target: one IPv4 host, a CIDR subnet, or 'all' associated controllers. */
export const targetSelectorSchema = z
  .string('must be a string')
  .refine((t) => parseSelector(t) !== undefined, {
    error: (issue) => `"${String(issue.input)}" is not an IPv4 address or CIDR subnet`,
  });

/** Everything "write memory" commits: the masterUpgrade workflow input. */
export const campaignConfigSchema = z
  .strictObject({
    inventory: z.array(controllerSchema, 'must be a list of controllers'),
    profile: upgradeProfileSchema,
    targets: z.array(targetSelectorSchema, 'must be a list of selectors'),
  })
  .superRefine((config, ctx) => {
    const listed = repeatedIps(ctx);
    config.inventory.forEach((controller, index) => {
      listed(controller.ip, ['inventory', index, 'ip']);
      if (controller.redundancy !== undefined && controller.group === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['inventory', index, 'redundancy'],
          message: `needs a group: ${controller.ip} is ${controller.redundancy} of which group?`,
        });
    });
    for (const model of Object.keys(config.profile.models)) {
      if (!isKnownModel(model))
        ctx.addIssue({
          code: 'custom',
          path: ['profile', 'models', model],
          message: 'is not a known controller model',
        });
    }
    const { controllers } = resolveTargets(config.inventory, config.targets);
    const missing = new Map<string, string[]>();
    for (const controller of controllers) {
      if (!config.profile.models[controller.model])
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

/** The header facts of a verified image. */
export const verifiedImageSchema = z.object({
  imageType: z.string('must be a string'),
  version: z.string('must be a string'),
  build: wholeNumber(0),
  payloadLength: wholeNumber(0),
  /** Hex SHA-256 of the payload. */
  payloadSha256: z.string('must be a string').regex(sha256Pattern, 'must be a hex SHA-256'),
  /** Bytes the header read transferred from the server (proof that only the header was read). */
  bytesRead: wholeNumber(0),
  /** Id of the trusted key whose signature verified; absent when the profile allowed an unsigned image. */
  signedBy: z.string('must be a string').optional(),
});

/** What verifyImage checks an image against. */
export const verifyImageInputSchema = z.strictObject({
  source: imageSourceSchema,
  /** Every controller model that will receive this image; its type must fit each. */
  models: z
    .array(z.string('must be a string'), 'must be a list of models')
    .min(1, 'must name at least one model'),
  ...expectedImage,
  /** The profile's allowUnsigned: without it, only images signed by a key the worker trusts verify. */
  allowUnsigned: z.boolean('must be true or false').optional(),
});

/** What the controller reports about itself (`show version`, `show image version`). */
export const controllerFactsSchema = z.object({
  model: z.string('must be a string'),
  runningVersion: z.string('must be a string'),
  runningBuild: wholeNumber(0),
  /** Partition the controller booted from. */
  bootPartition: partition,
  partitions: z.array(
    z.object({
      partition,
      version: z.string().optional(),
      build: z.number().optional(),
      imageType: z.string().optional(),
    }),
  ),
});

/** Counters a controller's upgrade carries across continue-as-new. */
export const controllerCarriedSchema = z.object({
  attempts: wholeNumber(0),
  cycles: wholeNumber(0),
  lastError: z.string().optional(),
  facts: controllerFactsSchema.optional(),
  /** Runs so far (1 = the first). */
  run: wholeNumber(1),
  /** Reports sent to the master so far: the next one's sequence number follows (absent before it existed). */
  reports: wholeNumber(0).optional(),
});

/** Input of controllerUpgrade: one controller, one verified image. */
export const controllerUpgradeInputSchema = z.strictObject({
  /** Campaign ID (the master's workflow ID); also in logs and on the controller's log. */
  campaign: z.string('must be a string').min(1, 'must not be empty'),
  controller: controllerSchema,
  source: imageSourceSchema,
  /** Header facts the master verified; the controller must end up with exactly this image. */
  image: verifiedImageSchema,
  autoboot: z.boolean('must be true or false'),
  /** Wait between quick-try cycles ('15m'). */
  retryInterval: duration(1_000, '1s'),
  /** Download tries per cycle. */
  quickTries: wholeNumber(1),
  /** Pause between quick tries. Default '5s'. */
  quickTryBackoff: duration(0, '0s').optional(),
  /** How long the controller may stay unreachable after reload. Default '10m'. */
  rebootTimeout: rebootTimeout.optional(),
  partition: upgradeProfileSchema.shape.partition.unwrap(),
  /** Master to report to and take download slots from. Absent: the child runs alone, unthrottled. */
  master: z.strictObject({ workflowId: z.string('must be a string').min(1, 'must not be empty') }).optional(),
  /** Upsert CiuState/CiuAttempts. Default true; false on a server without the ciu attributes registered (it would reject the upserts). */
  searchAttributes: z.boolean('must be true or false').optional(),
  /** Retry cycles per run before continue-as-new. Default 20 (about 1,500 events). */
  cyclesPerRun: wholeNumber(1).optional(),
  /** The master handed it a download slot with its start: its first download cycle asks for none. */
  downloadSlotGranted: z.boolean('must be true or false').optional(),
  /** Patches the starting master vouches for (workflows/controller-upgrade.ts, behaviourOne): in force without a marker each. Absent: each asks patched(). */
  behaviour: wholeNumber(0).optional(),
  /** The master queued it for a download slot with its start: its first download cycle waits for the grant without asking. */
  downloadSlotQueued: z.boolean('must be true or false').optional(),
  /**
   * The master run that started it hears its end from its result: it sends no last report unless that
   * run hands over first (reportEndBySignal). Absent: its end is reported by signal, as before.
   */
  endByResult: z.boolean('must be true or false').optional(),
  /**
   * Ask the master for a reboot permit before the reload even outside a redundancy group: the campaign
   * has a failure budget, and a halt holds every reboot not yet begun. Default false.
   */
  rebootPermit: z.boolean('must be true or false').optional(),
  carried: controllerCarriedSchema.optional(),
  ...rolloutFields,
});

/**
 * masterUpgrade's third argument, the run's bounds (workflows/master-upgrade.ts, MasterOptions: each
 * field's default is there). `retry` is checked on its own against the campaign (completed-retry.ts).
 */
export const masterOptionsSchema = z.strictObject({
  searchAttributes: z.boolean('must be true or false').optional(),
  historyLimit: wholeNumber(10).max(10_000, 'must be <= 10000 (the most events a run may hold)').optional(),
  childrenPerRun: wholeNumber(1)
    .max(2_000, 'must be <= 2000 (Temporal: pending children per workflow)')
    .optional(),
  signalsAtOnce: wholeNumber(1)
    .max(2_000, 'must be <= 2000 (Temporal: pending signals per workflow)')
    .optional(),
  lookAheadUpTo: wholeNumber(0).optional(),
  retry: z.unknown().optional(),
});

export type SshEndpoint = z.infer<typeof sshEndpointSchema>;
export type Controller = z.infer<typeof controllerSchema>;
export type ImageServer = z.infer<typeof imageServerSchema>;
export type ImageSource = z.infer<typeof imageSourceSchema>;
export type ModelImage = z.infer<typeof modelImageSchema>;
export type UpgradeProfile = z.infer<typeof upgradeProfileSchema>;
export type TargetSelector = z.infer<typeof targetSelectorSchema>;
export type CampaignConfig = z.infer<typeof campaignConfigSchema>;
/** What "write memory" accepts before defaults are filled in. */
export type CampaignConfigInput = z.input<typeof campaignConfigSchema>;
export type VerifiedImage = z.infer<typeof verifiedImageSchema>;
export type VerifyImageInput = z.infer<typeof verifyImageInputSchema>;
export type ControllerFacts = z.infer<typeof controllerFactsSchema>;
export type ControllerCarried = z.infer<typeof controllerCarriedSchema>;
export type ControllerUpgradeInput = z.input<typeof controllerUpgradeInputSchema>;
export type MaintenanceWindowInput = z.infer<typeof maintenanceWindowSchema>;
