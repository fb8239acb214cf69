/**
 * The dry run: what committing a config would do to each controller, and what it would refuse and
 * why — computed from the config alone, plus whatever is known about the controllers (a read-only
 * inspect, or a running campaign's status). Pure: the CLI, the master's upgradePlan query and tests
 * share it.
 */
import { defaultDialect, dialectProblems } from './dialects';
import { formatBytes, preCheckProblems } from './pre-checks';
import { resolveTargets } from './targets';
import type { CampaignConfig } from './types';
import type { RedundancyRole } from './redundancy';
import { assignWaves, describeBudget } from './waves';
import { describeWindow, windowState, type MaintenanceWindow } from './windows';

/** What is known about one controller before its upgrade. */
export interface PlanFacts {
  model?: string;
  runningVersion?: string;
  runningBuild?: number;
  bootPartition?: 0 | 1;
  freeBytes?: number;
}

/** What would happen to one controller. */
export type PlanAction = 'upgrade' | 'up-to-date' | 'not-targeted' | 'refused';

export interface ControllerPlan {
  ip: string;
  model: string;
  action: PlanAction;
  /** Why it is up-to-date, not targeted, or refused. */
  reason?: string;
  image?: string;
  /** The profile's expected version/build; absent: whatever the image header says. */
  targetVersion?: string;
  targetBuild?: number;
  runningVersion?: string;
  runningBuild?: number;
  /** '1', or 'non-boot' while the booted partition is not known. */
  partition?: string;
  /** Free space on the controller's flash (`show storage`), when inspected. */
  freeFlash?: string;
  /** The download window and when it next opens ('open now' or an ISO time). */
  downloadWindow?: string;
  /** 'manual reboot' without autoboot, else the reboot window (or 'any time'). */
  reboot?: string;
  startAt?: string;
  fallback?: boolean;
  preChecks?: boolean;
  /** The profile's wave it would be upgraded in (only when the profile has waves). */
  wave?: string;
  /** Its redundancy group and role there (inventory `group`, `redundancy`): members reboot one at a time, standbys first. */
  group?: string;
  redundancy?: RedundancyRole;
}

export interface CampaignPlan {
  /** When the windows were evaluated (ISO). */
  at: string;
  unmatchedSelectors: string[];
  /** The profile's waves in order: size, soak time and budget (only when it has waves). */
  waves?: Array<{ name: string; size: number; soak?: string; maxFailures?: string }>;
  controllers: ControllerPlan[];
  counts: Partial<Record<PlanAction, number>>;
}

function windowText(window: MaintenanceWindow | undefined, now: Date): string {
  if (!window) return 'any time';
  const state = windowState(window, now);
  const when = state.open
    ? 'open now'
    : state.opensAt
      ? `opens ${state.opensAt.toISOString()}`
      : 'over: nothing would start';
  return `${describeWindow(window)} (${when})`;
}

/** Per inventory controller, what committing `config` at `now` would do. */
export function planCampaign(
  config: CampaignConfig,
  now: Date,
  facts: Readonly<Record<string, PlanFacts>> = {},
): CampaignPlan {
  const { profile } = config;
  const { controllers: targeted, unmatched } = resolveTargets(config.inventory, config.targets);
  const targetedIps = new Set(targeted.map((c) => c.ip));
  const waves = assignWaves(profile.waves, targeted);
  const waveOf = new Map(waves?.flatMap((w) => w.members.map((ip) => [ip, w.name] as const)));
  const plans = config.inventory.map((controller): ControllerPlan => {
    const known = facts[controller.ip] ?? {};
    const base: ControllerPlan = {
      ip: controller.ip,
      model: controller.model,
      action: 'upgrade',
      ...(known.runningVersion === undefined ? {} : { runningVersion: known.runningVersion }),
      ...(known.runningBuild === undefined ? {} : { runningBuild: known.runningBuild }),
      ...(controller.group === undefined ? {} : { group: controller.group }),
      ...(controller.redundancy === undefined ? {} : { redundancy: controller.redundancy }),
    };
    if (!targetedIps.has(controller.ip))
      return { ...base, action: 'not-targeted', reason: 'no target selector matches it' };
    const wave = waveOf.get(controller.ip);
    if (wave !== undefined) base.wave = wave;
    const entry = profile.models[controller.model];
    if (!entry)
      return { ...base, action: 'refused', reason: `profile.models.${controller.model} is missing` };
    const withImage: ControllerPlan = {
      ...base,
      image: entry.imageFile,
      ...(entry.expectedVersion === undefined ? {} : { targetVersion: entry.expectedVersion }),
      ...(entry.expectedBuild === undefined ? {} : { targetBuild: entry.expectedBuild }),
    };
    const dialect = dialectProblems(controller.dialect ?? defaultDialect, entry);
    if (dialect.length > 0)
      return {
        ...withImage,
        action: 'refused',
        reason: dialect
          .map(([field, message]) => `profile.models.${controller.model}.${field} ${message}`)
          .join('; '),
      };
    if (
      entry.expectedVersion !== undefined &&
      entry.expectedBuild !== undefined &&
      known.runningVersion === entry.expectedVersion &&
      known.runningBuild === entry.expectedBuild
    )
      return { ...withImage, action: 'up-to-date', reason: 'already runs the target version and build' };
    const partition =
      profile.partition !== 'non-boot'
        ? profile.partition
        : known.bootPartition === undefined
          ? undefined
          : known.bootPartition === 0
            ? 1
            : 0;
    const preChecks = profile.preChecks !== false;
    if (
      preChecks &&
      known.bootPartition !== undefined &&
      known.model !== undefined &&
      partition !== undefined
    ) {
      // The image's size is known only once its header is verified: free flash is shown, not judged.
      const problems = preCheckProblems({
        inventoryModel: controller.model,
        reportedModel: known.model,
        bootPartition: known.bootPartition,
        partition,
        freeBytes: 0,
        imageBytes: 0,
      }).filter((p) => p.check !== 'flash');
      if (problems.length > 0)
        return {
          ...withImage,
          action: 'refused',
          reason: `pre-check would fail: ${problems.map((p) => p.message).join('; ')}`,
        };
    }
    return {
      ...withImage,
      partition: partition === undefined ? 'non-boot' : String(partition),
      ...(known.freeBytes === undefined ? {} : { freeFlash: formatBytes(known.freeBytes) }),
      downloadWindow: windowText(profile.downloadWindow, now),
      reboot: profile.autoboot ? windowText(profile.rebootWindow, now) : 'manual reboot (no autoboot)',
      ...(profile.startAt === undefined ? {} : { startAt: profile.startAt }),
      fallback: profile.fallback === true,
      preChecks,
    };
  });
  const counts: Partial<Record<PlanAction, number>> = {};
  for (const { action } of plans) counts[action] = (counts[action] ?? 0) + 1;
  const waveSummary = waves?.map((w) => {
    const soak = profile.waves?.find((p) => p.name === w.name)?.soak;
    return {
      name: w.name,
      size: w.members.length,
      ...(soak === undefined ? {} : { soak }),
      ...(w.maxFailures === undefined
        ? {}
        : { maxFailures: describeBudget(w.maxFailures, w.members.length) }),
    };
  });
  return {
    at: now.toISOString(),
    unmatchedSelectors: unmatched,
    ...(waveSummary ? { waves: waveSummary } : {}),
    controllers: plans,
    counts,
  };
}
