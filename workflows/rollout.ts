import { planCampaign, type CampaignPlan, type PlanFacts } from '../src/domain/plan';
import type { CampaignStatus } from '../src/domain/status';
import type { CampaignConfig, UpgradeProfile } from '../src/domain/types';
import type { ControllerUpgradeInput } from './controller-upgrade';
import type { RolloutTiming } from './definitions';

/**
 * The profile's rollout controls as a child's input fields: only the ones set, so a campaign without
 * them starts children with exactly the input it always did.
 */
export function rolloutArgs(
  profile: UpgradeProfile,
): Pick<ControllerUpgradeInput, 'preChecks' | 'fallback' | 'downloadWindow' | 'rebootWindow' | 'startAt'> {
  const { preChecks, fallback, downloadWindow, rebootWindow, startAt } = profile;
  return {
    ...(preChecks === undefined ? {} : { preChecks }),
    ...(fallback === undefined ? {} : { fallback }),
    ...(downloadWindow === undefined ? {} : { downloadWindow }),
    ...(rebootWindow === undefined ? {} : { rebootWindow }),
    ...(startAt === undefined ? {} : { startAt }),
  };
}

/** A campaign with a failure budget (its own or a wave's) can halt: its children ask before every reload. */
export function haltCanHoldReboots(profile: UpgradeProfile): Pick<ControllerUpgradeInput, 'rebootPermit'> {
  const budgeted =
    profile.maxFailures !== undefined || (profile.waves ?? []).some((w) => w.maxFailures !== undefined);
  return budgeted ? { rebootPermit: true } : {};
}

/** The upgradePlan query's answer: the committed config, planned against the running versions children reported. */
export function campaignPlan(config: CampaignConfig, status: CampaignStatus, now: Date): CampaignPlan {
  const facts: Record<string, PlanFacts> = {};
  for (const c of status.controllers)
    if (c.runningVersion !== undefined)
      facts[c.ip] = { runningVersion: c.runningVersion, runningBuild: c.runningBuild };
  return planCampaign(config, now, facts);
}

/** The profile's start-at and windows, as the rolloutTiming signal carries them (only the ones set). */
export function rolloutTiming(profile: UpgradeProfile): RolloutTiming {
  const { downloadWindow, rebootWindow, startAt } = profile;
  return {
    ...(downloadWindow === undefined ? {} : { downloadWindow }),
    ...(rebootWindow === undefined ? {} : { rebootWindow }),
    ...(startAt === undefined ? {} : { startAt }),
  };
}
