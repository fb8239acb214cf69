/**
 * Per-controller states: machine words (search attribute CiuState, --json, queries) and the
 * labels operators know from ArubaOS `show upgrade status`.
 */
export const controllerStates = [
  'pending',
  'waiting-verification',
  'downloading',
  'waiting-retry',
  'waiting-window',
  'waiting-peer',
  'downloaded-reboot-required',
  'rebooting',
  'upgraded',
  'up-to-date',
  'failed',
  'pre-check-failed',
  'rolled-back',
  'purged',
  'not-targeted',
] as const;

export type ControllerState = (typeof controllerStates)[number];

export const stateLabels: Record<ControllerState, string> = {
  pending: 'Pending',
  'waiting-verification': 'Waiting, image not verified',
  downloading: 'Downloading',
  'waiting-retry': 'Waiting for retry',
  'waiting-window': 'Waiting for maintenance window',
  'waiting-peer': 'Waiting for reboot permit',
  'downloaded-reboot-required': 'Upgraded, reboot required',
  rebooting: 'Rebooting',
  upgraded: 'Upgraded',
  'up-to-date': 'Up-to-date',
  failed: 'Failed',
  'pre-check-failed': 'Pre-check failed',
  'rolled-back': 'Rolled back',
  purged: 'Purged',
  'not-targeted': 'Not part of target',
};

/** States a controller's child workflow ends in. */
export const finalStates: readonly ControllerState[] = [
  'downloaded-reboot-required',
  'upgraded',
  'up-to-date',
  'failed',
  'pre-check-failed',
  'rolled-back',
  'purged',
];

/** End states in which the controller did not get the new image because something went wrong (`--exit-status` 3). */
export const problemStates: readonly ControllerState[] = ['failed', 'pre-check-failed', 'rolled-back'];

/** What the operator sees for one controller (status query, `show upgrade status`, --json). */
export interface ControllerStatus {
  ip: string;
  model: string;
  role: 'local' | 'standby';
  state: ControllerState;
  /** Attempt within the current quick-try cycle (1..quickTries) while downloading. */
  attempt?: number;
  /** Download attempts so far, all cycles. */
  attempts: number;
  /** Bytes received in the current download, and the image size. */
  bytes?: number;
  totalBytes?: number;
  /** ISO time of the next download cycle while waiting-retry. */
  nextRetryAt?: string;
  /** While waiting-window: which window ('download' or 'reboot') and when it opens (ISO). */
  windowOpensAt?: string;
  window?: 'download' | 'reboot' | 'start-at';
  lastError?: string;
  image?: string;
  targetVersion?: string;
  targetBuild?: number;
  runningVersion?: string;
  runningBuild?: number;
  /** ISO time of the last change. */
  updatedAt?: string;
  /** The profile's wave this controller is in (only when the profile has waves). */
  wave?: string;
  /** Paused by the operator (pauseCampaign): nothing new starts for it. */
  paused?: boolean;
  /** Errors of the runs before a retry, oldest first (at most 5). */
  previousErrors?: string[];
  /** Its redundancy group (inventory `group`), when it has one. */
  group?: string;
  /** While waiting-peer: what holds its reload now. */
  rebootHold?: RebootHold;
}

/**
 * Why a controller waits for its reboot permit: a peer of its group rebooting now, a standby of its
 * group that goes first, the campaign halted, the controller paused; or, for a moment, its request
 * not heard yet ('asking') or its permit on the way ('granted', 'next'). `text` says it in words.
 */
export interface RebootHold {
  reason: 'peer-rebooting' | 'standby-first' | 'halted' | 'paused' | 'asking' | 'next' | 'granted';
  /** The peer that reboots now, or the standby that goes first. */
  peer?: string;
  group?: string;
  text: string;
}

/** The master's CiuCampaignState: whether it may start anything new. */
export const campaignStates = ['running', 'paused', 'halted', 'completed'] as const;
export type CampaignStateWord = (typeof campaignStates)[number];

/** One wave of the profile as the status shows it. */
export interface WaveStatus {
  name: string;
  /** waiting: an earlier wave is not done; soaking: the previous one is done, its soak time runs; done: every member final. */
  state: 'waiting' | 'soaking' | 'running' | 'done';
  size: number;
  /** Members in a final state. */
  final: number;
  /** Members failed, pre-check-failed or rolled back. */
  failures: number;
  /** The wave's max-failures, e.g. '1' or '5% (1 of 20)'. */
  maxFailures?: string;
  /** While soaking: when the next wave starts (ISO). */
  soakUntil?: string;
}

/** Where a campaign (one masterUpgrade run chain) is. */
export type CampaignPhase = 'verifying' | 'verification-failed' | 'running' | 'completed';

/** Header verification of the image one model needs. */
export interface ModelVerification {
  model: string;
  imageFile: string;
  ok: boolean;
  version?: string;
  build?: number;
  /** What was wrong, when ok is false. */
  error?: string;
  /** Failure type from src/domain/errors.ts, when ok is false. */
  errorType?: string;
}

/** Controllers per upgradeStatus page: the default and the most one query returns (about 1.5 KB each at most). */
export const statusPageLimit = 250;

/** A page of a status answer. */
export interface StatusPage {
  offset: number;
  limit: number;
  /** Controllers the request matched, all pages. */
  total: number;
}

/** The answer to the upgradeStatus query: the campaign's counts and one page of its controllers. */
export interface CampaignStatus {
  /** Campaign ID = master workflow ID. */
  campaign: string;
  phase: CampaignPhase;
  /** Committed config revision: 1 at start, +1 for each commitConfig that changed something. */
  revision: number;
  verifications: ModelVerification[];
  /** Target selectors that matched no associated controller. */
  unmatchedSelectors: string[];
  /**
   * purgeTargets selectors that did nothing, newest last (at most 20), e.g. `"10.1.4.300": not an
   * IPv4 address, CIDR subnet or all`. A signal cannot be refused, so this is where the sender sees it.
   */
  ignoredPurges?: string[];
  /** Internal messages (reports, slot requests) the master ignored because no worker sealed them; the newest 20. */
  forgedMessages?: string[];
  /**
   * One page of controllers: every inventory controller (the untargeted ones as 'not-targeted'),
   * narrowed to the request's state or controller, from `page.offset`, at most `page.limit`.
   */
  controllers: ControllerStatus[];
  /** Where `controllers` sits among the controllers the request matched (`total` of them). */
  page: StatusPage;
  /** Controllers per state over the whole campaign (states with none are omitted). */
  counts: Partial<Record<ControllerState, number>>;
  /** Download slots in use / max-downloads. */
  downloadSlots: { inUse: number; max: number; waiting: number };
  /** running, paused (the whole campaign), halted (a failure budget) or completed; absent in campaigns started before it. */
  state?: CampaignStateWord;
  /** Why the campaign is halted (a failure budget exceeded) and since when; `ciu upgrade resume` or a purge ends it. */
  halt?: { reason: string; at: string };
  /** What is paused: the whole campaign, or these controllers. */
  pause?: { campaign: boolean; controllers: string[]; at: string };
  /** The profile's waves, in order. */
  waves?: WaveStatus[];
  /** The campaign-wide max-failures, e.g. '2' or '5% (3 of 60)'. */
  maxFailures?: string;
}

/** What masterUpgrade returns. */
export interface CampaignSummary {
  campaign: string;
  outcome: 'completed' | 'verification-failed';
  revision: number;
  verifications: ModelVerification[];
  unmatchedSelectors: string[];
  counts: Partial<Record<ControllerState, number>>;
  /** Final state per targeted controller. */
  controllers: Array<{
    ip: string;
    model: string;
    state: ControllerState;
    attempts: number;
    lastError?: string;
    /** Errors of the runs before a retry (only for a retried controller). */
    previousErrors?: string[];
  }>;
}

/** Counts per state. */
export function countStates(
  controllers: readonly { state: ControllerState }[],
): Partial<Record<ControllerState, number>> {
  const counts: Partial<Record<ControllerState, number>> = {};
  for (const { state } of controllers) counts[state] = (counts[state] ?? 0) + 1;
  return counts;
}
