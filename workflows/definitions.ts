import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  PauseRequest,
  PauseResult,
  ResumeRequest,
  ResumeResult,
  RetryRequest,
  RetryResult,
} from '../src/domain/campaign-control';
import type { CampaignConfigInput } from '../src/domain/config';
import type { ConfigByReference } from '../src/domain/config-ref';
import type { CampaignPlan } from '../src/domain/plan';
import type { CampaignStatus, ControllerStatus } from '../src/domain/status';
import type { StatusRequest } from '../src/domain/status-request';
import type { CampaignConfig, UpgradeProfile } from '../src/domain/types';

/** Task queue the worker polls. */
export const taskQueue = 'ciu';

/**
 * How long one of a master's workflow tasks may take (Temporal's default: 10 s). A worker that lost
 * the master from its cache replays the current run, up to ~4,200 events: at 10,000 targets that
 * took about 3 s on an idle 2-core machine, and twice outlasted 10 s at load 7 before it went through.
 * Set by `ciu write memory` and every continue-as-new; a task whose worker died is retried after it.
 */
export const masterTaskTimeout = '30s';

/** Child workflow ID of one controller in a campaign: deterministic, so a restart never duplicates it. */
export function controllerWorkflowId(campaign: string, ip: string): string {
  return `${campaign}/${ip}`;
}

// --- master (masterUpgrade): operator-facing ---

/** Removes targets: 'all', an IPv4 address or a CIDR subnet, or a list of them. Matching children end as purged. */
export const purgeTargetsSignal = defineSignal<[selectors: string | string[]]>('purgeTargets');

/** What purgeTargetsUpdate returns. */
export interface PurgeResult {
  /** Controllers purged by this call (already final ones are left as they are). */
  purged: string[];
  /** Valid selectors that matched no target of the campaign. */
  matchingNoTarget: string[];
}

/**
 * purgeTargets with an answer (what `ciu upgrade target purge` uses): the validator refuses a
 * selector that is not an IPv4 address, a CIDR subnet or 'all', naming it; the answer lists what was purged.
 */
export const purgeTargetsUpdate = defineUpdate<PurgeResult, [selectors: string | string[]]>(
  'purgeTargetsUpdate',
);

/** What commitConfig returns. */
export interface CommitResult {
  /** Revision now in force (unchanged when `changed` is false). */
  revision: number;
  /** False when the committed config equals the running one: nothing restarts. */
  changed: boolean;
  /** Controller IPs newly targeted (their children start). */
  added: string[];
  /** Controller IPs no longer targeted (cleared = purged). */
  removed: string[];
}

/** "write memory": pushes a new config (or a reference to one in the config store) into the running campaign. The validator rejects bad config, naming the field. */
export const commitConfigUpdate = defineUpdate<
  CommitResult,
  [config: CampaignConfigInput | ConfigByReference]
>('commitConfig');

/**
 * The campaign's status ("show upgrade status"): counts over the whole campaign and one page of
 * controllers (default the first 250; ask for a state, one controller, or a later page). A bad
 * request fails the query, naming the field.
 */
export const upgradeStatusQuery = defineQuery<CampaignStatus, [request?: StatusRequest]>('upgradeStatus');

/** The dry run of the committed config against what the campaign knows of each controller (src/domain/plan.ts). */
export const upgradePlanQuery = defineQuery<CampaignPlan>('upgradePlan');

/**
 * The config in force (the last one committed), also after the campaign completed: what a retry after
 * completion starts its new run with.
 */
export const committedConfigQuery = defineQuery<CampaignConfig>('committedConfig');

/** Pauses the whole campaign (no selectors) or the controllers the selectors match; the validator names a bad field. */
export const pauseCampaignUpdate = defineUpdate<PauseResult, [request: PauseRequest]>('pauseCampaign');
/** Resumes what is paused (all, or what the selectors match); a whole-campaign resume also clears a failure-budget halt. */
export const resumeCampaignUpdate = defineUpdate<ResumeResult, [request: ResumeRequest]>('resumeCampaign');
/** Starts failed, pre-check-failed, rolled-back and purged targets again in this campaign, attempts and errors kept. */
export const retryTargetsUpdate = defineUpdate<RetryResult, [request: RetryRequest]>('retryTargets');

// --- master: child-facing ---

/** A child's state change; the master merges it into its status. */
export type ControllerReport = Pick<ControllerStatus, 'ip' | 'state' | 'attempts'> &
  Partial<Omit<ControllerStatus, 'ip' | 'state' | 'attempts'>> & {
    /** True in a child's last report: its workflow is ending (and holds no download slot). */
    final?: boolean;
    /** The child's quick-try cycle is over: its download slot is free again. */
    releasesSlot?: boolean;
  };

/**
 * A child reports its state. The wire name predates the rename: saved histories and running campaigns use it.
 * Internal messages end with the seal the worker's codec checks (workflows/message-auth.ts).
 */
export const controllerReportSignal =
  defineSignal<[report: ControllerReport, seal?: Uint8Array]>('controllerUpdate');
/** A child asks for one of the max-downloads slots; the master answers with downloadSlotGrantSignal. */
export const downloadSlotRequestSignal =
  defineSignal<[request: { ip: string }, seal?: Uint8Array]>('downloadSlotRequest');

/** A grouped controller asks to reboot (src/domain/redundancy.ts); the master answers with rebootPermitGrantSignal. */
export const rebootPermitRequestSignal =
  defineSignal<[request: { ip: string }, seal?: Uint8Array]>('rebootPermitRequest');

// --- child (controllerUpgrade) ---

/** Sent by the master: the child may download now. */
export const downloadSlotGrantSignal = defineSignal<[seal?: Uint8Array]>('downloadSlotGrant');
/** Sent by the master: no peer of the child's redundancy group reboots now; the child may reload. */
export const rebootPermitGrantSignal = defineSignal<[seal?: Uint8Array]>('rebootPermitGrant');
/** The rollout timing a commit changed: start-at and the windows (absent = none); a waiting child re-arms at once. */
export type RolloutTiming = Pick<UpgradeProfile, 'downloadWindow' | 'rebootWindow' | 'startAt'>;
/** Sent by the master after a commit changed the rollout timing. */
export const rolloutTimingSignal = defineSignal<[timing: RolloutTiming, seal?: Uint8Array]>('rolloutTiming');
/** Stops the child wherever it is (mid-download, mid-wait); it ends as purged. Cancelling the child does the same. */
export const purgeSignal = defineSignal<[seal?: Uint8Array]>('purge');
/** Sent by the master when the operator pauses with abortDownloads: stop the download under way, give the slot back and wait for a new one. */
export const abortDownloadSignal = defineSignal<[seal?: Uint8Array]>('abortDownload');
/**
 * Sent by the master run that started the child, before that run continues as new: the child's
 * result would reach a closed run, so it reports its end by signal (controllerUpdate) instead.
 */
export const reportEndBySignal = defineSignal<[seal?: Uint8Array]>('reportEndBySignal');
/** One controller's status. */
export const controllerStatusQuery = defineQuery<ControllerStatus>('controllerStatus');
