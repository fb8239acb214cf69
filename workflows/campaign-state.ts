/**
 * masterUpgrade's state, apart from the workflow that drives it (the pattern of Temporal's
 * safe-message-handlers sample): targets and their transitions, download slots, image checks. Pure —
 * no Temporal API, no I/O — so it is unit-tested without a server; the workflow keeps the handlers,
 * the commands (activities, children, signals) and the main loop. Iteration order is the order the
 * workflow issues commands in: keep it, or saved histories stop replaying.
 */
import type { VerifiedImage } from '../activities/types';
import { boundIssues, boundText } from '../src/domain/bounded';
import { canonicalJson } from '../src/domain/canonical-json';
import { cleanText } from '../src/domain/clean-text';
import { validateCampaignConfig } from '../src/domain/config';
import { failureText } from '../src/domain/errors';
import type { ControllerModel } from '../src/domain/models';
import {
  controllerStates,
  countStates,
  finalStates,
  stateLabels,
  type CampaignPhase,
  type CampaignStatus,
  type CampaignSummary,
  type ControllerState,
  type ControllerStatus,
  type ModelVerification,
  type RebootHold,
} from '../src/domain/status';
import {
  RebootPermits,
  peerHold,
  peerHoldText,
  type GroupMember,
  type RebootPermitState,
} from '../src/domain/redundancy';
import { statusPageLimit, type StatusRequest } from '../src/domain/status-request';
import { matchingIps, parseSelector, resolveTargets } from '../src/domain/targets';
import type { CampaignConfig, Controller, ModelImage } from '../src/domain/types';
import { describeBudget } from '../src/domain/waves';
import { previousErrorsKept, retryableStates, type SeededController } from '../src/domain/completed-retry';
import type { CommitResult, ControllerReport, PurgeResult } from './definitions';
import { CampaignControl, type ControlCarried } from './campaign-control';
import type {
  PauseRequest,
  PauseResult,
  ResumeRequest,
  ResumeResult,
  RetryRequest,
  RetryResult,
} from '../src/domain/campaign-control';

/** A targeted (or formerly targeted) controller, as the master tracks it. */
export interface TargetEntry {
  status: ControllerStatus;
  /** Its child workflow: not yet started, running, or closed. */
  child: 'none' | 'running' | 'closed';
  /** Purge decided; the child still has to be told. */
  purgePending?: boolean;
  /** Targeted again while its purged child was still stopping: start a new child once that one closed. */
  restartWhenClosed?: boolean;
  /** Children started for this controller so far; tells a late result of an older child apart. */
  generation: number;
  /** First run ID of the running child: messages from another run of its workflow ID are not heard. */
  childRun?: string;
  /** Report sequence numbers heard from that child: the highest, and lower ones not heard yet (overtaken). */
  reportsHeard?: { last: number; missing: number[] };
}

/** Result of checking one distinct image. */
export interface ImageCheck {
  ok: boolean;
  image?: VerifiedImage;
  error?: string;
  errorType?: string;
}

/** Download slots: who holds one, who waits for one, and grants not yet sent. */
export interface SlotState {
  holders: string[];
  queue: string[];
  grants: string[];
}

/** Everything masterUpgrade carries across continue-as-new (its shape is in running workflows' histories). */
export interface MasterCarried {
  revision: number;
  targets: Record<string, TargetEntry>;
  checks: Record<string, ImageCheck>;
  slots: SlotState;
  unmatched: string[];
  /** Absent in runs carried before it existed. */
  ignoredPurges?: string[];
  /** Internal messages ignored because no worker sealed them (workflows/message-auth.ts). */
  forgedMessages?: string[];
  /** Waves opened, a failure-budget halt, pauses (workflows/campaign-control.ts); absent while none were used. */
  control?: ControlCarried;
  /** Reboot permits of redundancy groups; absent in runs carried before they existed. */
  reboots?: RebootPermitState;
  /** Running children a commit's new rollout timing has not reached yet (sent a batch per workflow task). */
  timingOwed?: string[];
}

/** Where the state's log lines go (the workflow's `log`; a test's fake). */
export interface StateLog {
  info(message: string, attrs: Record<string, unknown>): void;
  warn(message: string, attrs: Record<string, unknown>): void;
}

/** An image the targets need that has not been checked yet, with every model that needs it. */
export interface ImageToVerify {
  key: string;
  entry: ModelImage;
  models: string[];
  /** The profile's allowUnsigned, for verifyImage. */
  allowUnsigned: boolean;
}

/** A child to start now: the controller, its image and the generation that tells its results apart. */
export interface Dispatch {
  controller: Controller;
  entry: ModelImage;
  image: VerifiedImage;
  generation: number;
}

/** The max-downloads semaphore: the master grants a slot per quick-try cycle; the child's report gives it back. */
export class DownloadSlots {
  constructor(private readonly state: SlotState = { holders: [], queue: [], grants: [] }) {}

  get inUse(): number {
    return this.state.holders.length;
  }

  get waiting(): number {
    return this.state.queue.length;
  }

  /** A child asks; one that already holds a slot (its grant got lost, or it continued as new) is granted again. */
  request(ip: string): void {
    const { holders, queue, grants } = this.state;
    if (!holders.includes(ip) && !queue.includes(ip)) queue.push(ip);
    else if (holders.includes(ip)) grants.push(ip);
  }

  /** A slot for `ip` without asking, if one is free and nobody waits (handed out with a child's start). */
  take(ip: string, max: number): boolean {
    const { holders, queue } = this.state;
    if (holders.length >= max || queue.length > 0 || holders.includes(ip)) return false;
    holders.push(ip);
    return true;
  }

  /** `ip` joins the queue without asking (queued with its child's start); false when it holds or waits already. */
  queueAtStart(ip: string): boolean {
    const { holders, queue } = this.state;
    if (holders.includes(ip) || queue.includes(ip)) return false;
    queue.push(ip);
    return true;
  }

  release(ip: string): void {
    this.state.holders = this.state.holders.filter((h) => h !== ip);
    this.state.queue = this.state.queue.filter((q) => q !== ip);
  }

  /**
   * Hands free slots to the longest waiting, first come first served; returns every grant to send now.
   * Those `may` refuses (paused, or the campaign halted) keep their place in the queue.
   */
  grant(max: number, may: (ip: string) => boolean = () => true): string[] {
    const { holders, queue, grants } = this.state;
    const held: string[] = [];
    while (holders.length < max && queue.length > 0) {
      const ip = queue.shift() as string;
      if (!may(ip)) {
        held.push(ip);
        continue;
      }
      holders.push(ip);
      grants.push(ip);
    }
    queue.unshift(...held);
    return grants.splice(0);
  }

  get holderIps(): readonly string[] {
    return this.state.holders;
  }

  snapshot(): SlotState {
    return this.state;
  }
}

/** Reports overtaken by a later one that are still heard when they arrive: the newest this many. */
const missedReportsKept = 20;

/** Characters of a lastError in masterUpgrade's result (one entry per target; npm run bench:capacity measures it). */
const summaryErrorLength = 200;

/** A check is redone when anything it depends on changes; allowUnsigned only counts when set, so older keys stay valid. */
function imageKey(entry: ModelImage, allowUnsigned: boolean | undefined): string {
  const { imageFile, server, protocol, credentialsRef, expectedVersion, expectedBuild } = entry;
  return canonicalJson({
    imageFile,
    server,
    protocol,
    credentialsRef,
    expectedVersion,
    expectedBuild,
    ...(allowUnsigned ? { allowUnsigned } : {}),
  });
}

function freshEntry(c: Controller, generation: number): TargetEntry {
  return {
    child: 'none',
    generation,
    status: { ip: c.ip, model: c.model, role: c.role, state: 'waiting-verification', attempts: 0 },
  };
}

function isFinal(entry: TargetEntry): boolean {
  return finalStates.includes(entry.status.state);
}

/** No child yet, waiting for its image check: what takeDispatches may start. */
function isUnstarted({ child, status }: TargetEntry): boolean {
  return child === 'none' && status.state === 'waiting-verification';
}

/**
 * What the main loop asks of all targets every workflow task (start room, done, counts, pending
 * purges, anything to start), kept up to date as targets change instead of scanned for: a replay
 * pays every scan again for every task it replays, and at 10,000 targets each scan cost ~2.5 ms
 * (npm run bench:capacity prints a turn's cost).
 */
class TargetTally {
  private readonly byState = new Map<ControllerState, number>();
  /** Not final, or its child still runs. */
  unfinished = 0;
  /** Child running and not past its download: what startRoom bounds. */
  beforeDownload = 0;
  /** No child and waiting for its image check: what takeDispatches may start. */
  unstarted = 0;
  purgesPending = 0;
  /** Every target: the campaign's size, which sets how far children start ahead of a slot. */
  all = 0;

  count(entry: TargetEntry, sign: 1 | -1): void {
    const { child, status } = entry;
    this.all += sign;
    this.byState.set(status.state, (this.byState.get(status.state) ?? 0) + sign);
    if (!isFinal(entry) || child === 'running') this.unfinished += sign;
    if (child === 'running' && (status.state === 'pending' || status.state === 'downloading'))
      this.beforeDownload += sign;
    if (isUnstarted(entry)) this.unstarted += sign;
    if (entry.purgePending === true) this.purgesPending += sign;
  }

  /** Targets per state, in the order of controllerStates. */
  counts(): Partial<Record<ControllerState, number>> {
    const counts: Partial<Record<ControllerState, number>> = {};
    for (const state of controllerStates) {
      const n = this.byState.get(state) ?? 0;
      if (n > 0) counts[state] = n;
    }
    return counts;
  }
}

/** One campaign's targets, image checks and download slots, and every transition between them. */
export class CampaignState {
  revision: number;
  phase: CampaignPhase;
  /** Something changed that the main loop has not acted on yet. */
  dirty = true;
  readonly slots: DownloadSlots;
  /** Reboot permits of grouped controllers (src/domain/redundancy.ts). */
  readonly reboots: RebootPermits;
  private readonly targets: Record<string, TargetEntry>;
  private readonly checks: Record<string, ImageCheck>;
  private unmatched: string[];
  private ignoredPurges: string[];
  private readonly tally = new TargetTally();
  /** The targets' IPs in their (insertion) order, once asked for; a new target drops it. */
  private order: string[] | undefined;
  /** No target before this index of `order` waits to start (takeDispatches looks from here). */
  private scanFrom = 0;
  private inventoryIndex: { config: CampaignConfig; byIp: Map<string, Controller> } | undefined;
  /** Waves, the failure-budget halt and pauses: what may start now. */
  readonly control: CampaignControl;

  constructor(
    private config: CampaignConfig,
    private readonly campaign: string,
    private readonly log: StateLog,
    carried?: MasterCarried,
  ) {
    this.revision = carried?.revision ?? 1;
    this.targets = carried?.targets ?? {};
    this.checks = carried?.checks ?? {};
    this.slots = new DownloadSlots(carried?.slots);
    this.reboots = new RebootPermits(carried?.reboots);
    this.unmatched = carried?.unmatched ?? [];
    this.ignoredPurges = carried?.ignoredPurges ?? [];
    for (const entry of Object.values(this.targets)) this.tally.count(entry, 1);
    this.phase = carried ? 'running' : 'verifying';
    this.control = new CampaignControl(
      {
        config: () => this.config,
        entries: () => this.targets,
        slotHolders: () => this.slots.holderIps,
      },
      carried?.control,
    );
  }

  get committed(): CampaignConfig {
    return this.config;
  }

  /** What the next run starts from. */
  carried(): MasterCarried {
    return {
      revision: this.revision,
      targets: this.targets,
      checks: this.checks,
      slots: this.slots.snapshot(),
      unmatched: this.unmatched,
      ignoredPurges: this.ignoredPurges,
      ...this.controlCarried(),
      reboots: this.reboots.snapshot(),
    };
  }

  private controlCarried(): Pick<MasterCarried, 'control'> {
    const control = this.control.carried();
    return control ? { control } : {};
  }

  /**
   * Every change of a target goes through here, so the tally follows: `change` may edit the entry
   * or put a new one in its place (or a first one: `ip` need not be a target yet).
   */
  private edit<T>(ip: string, change: (entry: TargetEntry | undefined) => T): T {
    const before = this.targets[ip];
    if (before) this.tally.count(before, -1);
    const wasUnstarted = before !== undefined && isUnstarted(before);
    try {
      return change(before);
    } finally {
      const after = this.targets[ip];
      if (after) this.tally.count(after, 1);
      if (!before) this.order = undefined;
      if (after && isUnstarted(after) && !wasUnstarted) this.scanFrom = 0;
    }
  }

  /** The committed inventory by address, built once per committed config (a replay asks once per task). */
  private inventoryByIp(): ReadonlyMap<string, Controller> {
    if (this.inventoryIndex?.config !== this.config)
      this.inventoryIndex = {
        config: this.config,
        byIp: new Map(this.config.inventory.map((c) => [c.ip, c])),
      };
    return this.inventoryIndex.byIp;
  }

  /** The target entry of `ip`, read-only by intent: transitions go through the methods below. */
  target(ip: string): TargetEntry | undefined {
    return this.targets[ip];
  }

  private modelImage(model: string): ModelImage | undefined {
    return this.config.profile.models[model as ControllerModel];
  }

  /** Brings the targets in line with the config: new ones wait for verification, dropped ones are purged. */
  applyTargets(): { added: string[]; removed: string[] } {
    const resolved = resolveTargets(this.config.inventory, this.config.targets);
    this.unmatched = resolved.unmatched;
    const wanted = new Set(resolved.controllers.map((c) => c.ip));
    const added: string[] = [];
    for (const c of resolved.controllers) {
      const existing = this.targets[c.ip];
      if (existing && existing.status.state !== 'purged') continue;
      added.push(c.ip);
      if (existing?.child === 'running') existing.restartWhenClosed = true;
      else this.edit(c.ip, () => (this.targets[c.ip] = freshEntry(c, existing?.generation ?? 0)));
    }
    const removed = Object.keys(this.targets).filter((ip) => !wanted.has(ip) && !isFinal(this.targets[ip]!));
    this.purge(removed, 'target removed from the committed config');
    return { added, removed };
  }

  /** commitConfig: an equal config changes nothing; a new one bumps the revision and re-targets. */
  commit(next: unknown): CommitResult {
    const validated = validateCampaignConfig(next);
    if (!validated.ok) throw new Error(boundIssues(validated.issues));
    if (canonicalJson(validated.config) === canonicalJson(this.config))
      return { revision: this.revision, changed: false, added: [], removed: [] };
    this.config = validated.config;
    this.revision++;
    const { added, removed } = this.applyTargets();
    this.log.info('config committed', {
      campaign: this.campaign,
      revision: this.revision,
      added: added.length,
      removed: removed.length,
    });
    return { revision: this.revision, changed: true, added, removed };
  }

  /** Purged at once; a running child is told on the next turn of the loop (takePendingPurges). */
  purge(ips: string[], why: string): void {
    for (const ip of ips) {
      const entry = this.targets[ip];
      if (!entry || isFinal(entry)) continue;
      this.edit(ip, () => {
        entry.status = { ...entry.status, state: 'purged', lastError: entry.status.lastError };
        if (entry.child === 'running') entry.purgePending = true;
      });
      this.slots.release(ip);
      this.reboots.release(ip);
      this.log.info('target purged', { campaign: this.campaign, controller: ip, why });
    }
    this.dirty = true;
  }

  /**
   * purgeTargets: selectors that are invalid or match no target are kept (last 20) for the status
   * query. Returns the controllers purged now (purgeTargetsUpdate answers with them).
   */
  purgeSelectors(selectors: string | string[]): PurgeResult {
    const list = (Array.isArray(selectors) ? selectors : [selectors]).map(String);
    const known = Object.keys(this.targets);
    const invalid = list.filter((selector) => parseSelector(selector) === undefined);
    const idle = list.filter(
      (selector) => !invalid.includes(selector) && matchingIps(known, [selector]).length === 0,
    );
    // Whoever may signal the campaign chose these strings: only their cleaned, bounded form is kept,
    // logged or shown (status, Web UI), never control characters.
    const shown = (selector: string) => boundText(cleanText(selector), 100);
    if (invalid.length > 0 || idle.length > 0) {
      this.log.warn('purge selectors ignored', {
        campaign: this.campaign,
        invalid: invalid.map(shown),
        matchingNoTarget: idle,
      });
      this.ignoredPurges = [
        ...this.ignoredPurges,
        ...invalid.map((selector) => `"${shown(selector)}": not an IPv4 address, CIDR subnet or all`),
        ...idle.map((selector) => `"${shown(selector)}": matches no target of this campaign`),
      ].slice(-20);
    }
    const ips = matchingIps(known, list);
    const purged = ips.filter((ip) => !isFinal(this.targets[ip]!));
    this.log.info('purge requested', {
      campaign: this.campaign,
      selectors: boundIssues(list.map(shown)),
      matched: ips.length,
    });
    this.purge(ips, `purgeTargets ${boundIssues(list.map(shown))}`);
    return { purged, matchingNoTarget: idle };
  }

  /**
   * A child's report (or its result, `closed`). Only a running child is heard; a purge decided here
   * wins over its last word about an older state; a closed child targeted again restarts fresh.
   */
  applyReport(report: ControllerReport, closed: boolean): void {
    this.edit(report.ip, (entry) => this.mergeReport(entry, report, closed));
  }

  private mergeReport(entry: TargetEntry | undefined, report: ControllerReport, closed: boolean): void {
    if (!entry || entry.child !== 'running') return;
    if (closed) entry.child = 'closed';
    if (closed || report.releasesSlot) this.slots.release(report.ip);
    // Reports are sent without waiting, so one can overtake an earlier one: the earlier one changes nothing.
    if (!closed && report.updatedAt !== undefined && report.updatedAt < (entry.status.updatedAt ?? '')) {
      this.dirty = true;
      return;
    }
    this.releaseRebootAfter(report, closed);
    const { final: _final, releasesSlot: _releases, ...reported } = report;
    const status =
      reported.lastError === undefined ? reported : { ...reported, lastError: boundText(reported.lastError) };
    entry.status =
      entry.status.state === 'purged'
        ? { ...entry.status, ...status, state: 'purged' }
        : { ...entry.status, ...status };
    // A merge keeps what a partial report (a child's result) does not carry; these two only mean something in their state.
    if (entry.status.state !== 'downloading') delete entry.status.attempt;
    if (entry.status.state !== 'waiting-retry') delete entry.status.nextRetryAt;
    if (entry.status.state !== 'waiting-window') {
      delete entry.status.windowOpensAt;
      delete entry.status.window;
    }
    const again = closed && entry.restartWhenClosed ? this.inventoryByIp().get(report.ip) : undefined;
    if (again) {
      this.targets[report.ip] = freshEntry(again, entry.generation);
      this.log.info('target restarts', { campaign: this.campaign, controller: report.ip });
    }
    if (report.state === 'failed' || report.state === 'waiting-retry')
      this.log.warn('controller upgrade problem', {
        campaign: this.campaign,
        controller: report.ip,
        state: report.state,
        attempts: report.attempts,
        error: report.lastError,
      });
    this.dirty = true;
  }

  /** The child of `generation` started as run `run`: from now on only that run's messages are heard. */
  childStarted(ip: string, generation: number, run: string): void {
    const entry = this.targets[ip];
    if (!entry || entry.generation !== generation) return;
    entry.childRun = run;
    delete entry.reportsHeard;
  }

  /** Why a message from run `run` of `ip`'s child is not heard; undefined when it is (or the child is not bound). */
  childRunProblem(ip: string, run: string | undefined): string | undefined {
    const expected = this.targets[ip]?.childRun;
    if (expected === undefined || run === expected) return undefined;
    return `sent by run ${run ?? '(none)'}, not the child this campaign started`;
  }

  /**
   * Why a report (run `run`, sequence number `seq`) is not heard: another run's, or one heard before
   * (a replay). A report overtaken by a later one is still heard once.
   */
  reportProblem(ip: string, run: string | undefined, seq: number | undefined): string | undefined {
    const entry = this.targets[ip];
    if (entry?.childRun === undefined) return undefined;
    const problem = this.childRunProblem(ip, run);
    if (problem) return problem;
    if (seq === undefined) return 'no sequence number';
    const heard = entry.reportsHeard;
    if (!heard || seq > heard.last) {
      const missing = heard?.missing ?? [];
      for (let s = Math.max((heard?.last ?? 0) + 1, seq - missedReportsKept); s < seq; s++) missing.push(s);
      entry.reportsHeard = { last: seq, missing: missing.slice(-missedReportsKept) };
      return undefined;
    }
    if (heard.missing.includes(seq)) {
      heard.missing = heard.missing.filter((s) => s !== seq);
      return undefined;
    }
    return `replayed (sequence ${seq}, last ${heard.last})`;
  }

  /** Whether `generation` is still the controller's latest child (a result of an older one is stale). */
  isCurrent(ip: string, generation: number): boolean {
    return this.targets[ip]?.generation === generation;
  }

  /** The child of `generation` failed as a workflow; counts as its final report when still current. */
  childFailed(ip: string, generation: number, error: string): void {
    const entry = this.targets[ip];
    if (!entry || entry.generation !== generation) return;
    this.applyReport({ ip, state: 'failed', attempts: entry.status.attempts, lastError: error }, true);
  }

  /** The child could not be signalled: it already ended (it reported before closing). */
  childGone(ip: string): void {
    this.edit(ip, (entry) => {
      if (entry) entry.child = 'closed';
    });
    this.slots.release(ip);
    this.reboots.release(ip);
    this.dirty = true;
  }

  /** downloadSlotRequest: a purged (or unknown) controller gets none. */
  requestSlot(ip: string): void {
    const entry = this.targets[ip];
    if (!entry || entry.status.state === 'purged') return;
    this.slots.request(ip);
    this.dirty = true;
  }

  /** A free download slot for a child about to start, unless its downloads wait for a window or start time. */
  slotWithStart(ip: string): boolean {
    const { downloadWindow, startAt, maxDownloads } = this.config.profile;
    if (downloadWindow !== undefined || startAt !== undefined || !this.control.mayGrant(ip)) return false;
    return this.slots.take(ip, maxDownloads);
  }

  /**
   * A place in the slot queue for a child about to start that got no free slot: it waits for its grant
   * without asking, a signal and a workflow task less per child. Not while its downloads wait for a
   * window or start time (it asks once they open), nor while the campaign or it is held back.
   */
  queueWithStart(ip: string): boolean {
    const { downloadWindow, startAt } = this.config.profile;
    if (downloadWindow !== undefined || startAt !== undefined || !this.control.mayGrant(ip)) return false;
    if (!this.slots.queueAtStart(ip)) return false;
    this.dirty = true;
    return true;
  }

  /**
   * Hands free download slots out (DownloadSlots.grant) and shows each newly granted controller as
   * downloading its cycle's first try, as its child does on the grant without reporting it.
   */
  grantSlots(limit = Number.POSITIVE_INFINITY): string[] {
    let allowed = limit;
    const granted = this.slots.grant(
      this.config.profile.maxDownloads,
      (ip) => this.control.mayGrant(ip) && allowed-- > 0,
    );
    for (const ip of granted) {
      const entry = this.targets[ip];
      if (!entry || entry.status.state === 'downloading' || isFinal(entry)) continue;
      this.edit(ip, () => {
        entry.status = {
          ...entry.status,
          state: 'downloading',
          attempt: 1,
          attempts: entry.status.attempts + 1,
        };
        delete entry.status.nextRetryAt;
        delete entry.status.windowOpensAt;
        delete entry.status.window;
      });
    }
    return granted;
  }

  /** rebootPermitRequest from a grouped controller's child: a purged (or unknown) one gets none. */
  requestReboot(ip: string): void {
    const entry = this.targets[ip];
    if (!entry || entry.status.state === 'purged') return;
    this.reboots.request(ip);
    this.dirty = true;
  }

  /** A permit is held while the child waits for it and reboots (and falls back); any other report gives it back. */
  private releaseRebootAfter(report: ControllerReport, closed: boolean): void {
    if (closed || (report.state !== 'rebooting' && report.state !== 'waiting-peer'))
      this.reboots.release(report.ip);
  }

  /** Reboot permits to send now: per group one at a time, standbys first (src/domain/redundancy.ts). */
  grantReboots(): string[] {
    if (this.reboots.waiting.length === 0) return [];
    const members = this.groupMembers();
    // A halted campaign, or a paused controller, reboots nothing new (waves' CampaignControl).
    return this.reboots.grant(members, (ip) => this.control.mayGrant(ip));
  }

  /** Every targeted controller as the reboot-permit rule sees it. */
  private groupMembers(): Map<string, GroupMember> {
    const members = new Map<string, GroupMember>();
    for (const c of this.config.inventory) {
      const entry = this.targets[c.ip];
      if (!entry) continue;
      members.set(c.ip, { ip: c.ip, group: c.group, redundancy: c.redundancy, final: isFinal(entry) });
    }
    return members;
  }

  /** What holds the reload of `ip`, waiting for its reboot permit (`members`: groupMembers()). */
  private rebootHold(ip: string, members: ReadonlyMap<string, GroupMember>): RebootHold {
    if (this.control.halted) return { reason: 'halted', text: 'the campaign is halted' };
    if (this.control.isPaused(ip)) return { reason: 'paused', text: 'paused by the operator' };
    if (this.reboots.holds(ip)) return { reason: 'granted', text: 'permit granted, reload next' };
    if (!this.reboots.waiting.includes(ip))
      return { reason: 'asking', text: 'its request has not reached the master yet' };
    const member = members.get(ip);
    const group = member?.group;
    const peers = group === undefined ? [] : [...members.values()].filter((m) => m.group === group);
    const hold = member && peerHold(member, peers, this.reboots.snapshot().holders);
    return hold ? { ...hold, text: peerHoldText(hold) } : { reason: 'next', text: 'next in turn' };
  }

  /** A status row with its redundancy group and, while it waits for a reboot permit, what holds it. */
  private withRedundancy(
    c: ControllerStatus,
    groups: ReadonlyMap<string, string>,
    members: () => ReadonlyMap<string, GroupMember>,
  ): ControllerStatus {
    const group = groups.get(c.ip);
    if (group === undefined && c.state !== 'waiting-peer') return c;
    return {
      ...c,
      ...(group === undefined ? {} : { group }),
      ...(c.state === 'waiting-peer' ? { rebootHold: this.rebootHold(c.ip, members()) } : {}),
    };
  }

  /** Web UI details: each group's progress and who holds or waits for a reboot permit (at most 10 of each). */
  redundancyDetails(): string[] {
    const permits = this.reboots.snapshot();
    if (
      permits.holders.length === 0 &&
      permits.queue.length === 0 &&
      !this.config.inventory.some((c) => c.group)
    )
      return [];
    const members = this.groupMembers();
    const groups = new Map<string, { size: number; final: number }>();
    for (const m of members.values()) {
      if (m.group === undefined) continue;
      const g = groups.get(m.group) ?? { size: 0, final: 0 };
      g.size++;
      if (m.final) g.final++;
      groups.set(m.group, g);
    }
    const lines: string[] = [];
    const listed = <T>(items: T[], show: (item: T) => string) =>
      `${items.slice(0, 10).map(show).join(' · ')}${items.length > 10 ? ` · and ${items.length - 10} more` : ''}`;
    if (groups.size > 0)
      lines.push(
        `Redundancy groups: ${listed([...groups], ([name, g]) => `${name} ${g.final}/${g.size} final`)}`,
      );
    const rebooting = this.reboots.snapshot().holders;
    if (rebooting.length > 0)
      lines.push(
        `Rebooting with a permit: ${listed(rebooting, (ip) => `${ip}${members.get(ip)?.group ? ` (${members.get(ip)?.group})` : ''}`)}`,
      );
    const waiting = this.reboots.waiting;
    if (waiting.length > 0)
      lines.push(
        `Waiting for a reboot permit: ${listed([...waiting], (ip) => `${ip}: ${this.rebootHold(ip, members).text}`)}`,
      );
    return lines;
  }

  /** Controllers whose child runs and has not been told to stop: those a commit's new timing reaches. */
  runningChildren(): string[] {
    return Object.entries(this.targets)
      .filter(([, entry]) => entry.child === 'running' && !isFinal(entry))
      .map(([ip]) => ip);
  }

  /** Running children whose purge they have not been told yet, at most `limit`; each is returned once. */
  takePendingPurges(limit = Number.POSITIVE_INFINITY): string[] {
    const ips: string[] = [];
    if (this.tally.purgesPending === 0) return ips;
    for (const [ip, entry] of Object.entries(this.targets)) {
      if (!entry.purgePending) continue;
      if (ips.length >= limit) break;
      this.edit(ip, () => (entry.purgePending = false));
      ips.push(ip);
    }
    return ips;
  }

  /** Whether a purge still has to be told to a running child (takePendingPurges left it for a later task). */
  hasPendingPurges(): boolean {
    return this.tally.purgesPending > 0;
  }

  /** Images waiting targets need and nobody checked yet, one per distinct image. */
  imagesToVerify(): ImageToVerify[] {
    const byKey = new Map<string, ImageToVerify>();
    const { models, allowUnsigned } = this.config.profile;
    // The master asks every workflow task: when every image is checked, say so without a look at each target.
    const unchecked = new Map<string, string>();
    for (const [model, entry] of Object.entries(models)) {
      const key = imageKey(entry, allowUnsigned);
      if (!this.checks[key]) unchecked.set(model, key);
    }
    if (unchecked.size === 0 || this.tally.unstarted === 0) return [];
    for (const target of Object.values(this.targets)) {
      if (target.child !== 'none' || target.status.state !== 'waiting-verification') continue;
      const entry = this.modelImage(target.status.model);
      const key = unchecked.get(target.status.model);
      if (!entry || key === undefined) continue;
      const group = byKey.get(key) ?? {
        key,
        entry,
        models: [],
        allowUnsigned: this.config.profile.allowUnsigned === true,
      };
      if (!group.models.includes(target.status.model)) group.models.push(target.status.model);
      byKey.set(key, group);
    }
    return [...byKey.values()].map((group) => ({ ...group, models: group.models.sort() }));
  }

  recordCheck(key: string, check: ImageCheck): void {
    this.checks[key] = check;
  }

  /**
   * Targets whose image is checked: a failed check fails them; a good one marks them pending with a
   * new child generation and returns them to start, at most `batch` (more next turn, `dirty` stays set).
   */
  takeDispatches(batch: number, room = Number.POSITIVE_INFINITY): Dispatch[] {
    const starts: Dispatch[] = [];
    // The master calls this every workflow task (and a replay again for each): with nothing to start,
    // or no room to start it (batch 0 still marks the master dirty below), it returns at once.
    if (this.tally.unstarted === 0 || (room <= 0 && batch > 0)) return starts;
    const order = (this.order ??= Object.keys(this.targets));
    /** The first target passed that is still waiting to start: the next call looks from there. */
    let firstLeft: number | undefined;
    for (let i = this.scanFrom; i < order.length; i++) {
      const ip = order[i]!;
      const target = this.targets[ip]!;
      if (target.child !== 'none' || target.status.state !== 'waiting-verification') continue;
      firstLeft ??= i;
      if (!this.control.mayStart(target.status.ip)) continue;
      if (starts.length >= batch) {
        this.dirty = true;
        break;
      }
      // No room: the rest stay waiting, and a report that frees room wakes the master again.
      if (starts.length >= room) break;
      const controller = this.inventoryByIp().get(target.status.ip);
      const entry = this.modelImage(target.status.model);
      const check = entry && this.checks[imageKey(entry, this.config.profile.allowUnsigned)];
      if (!controller || !entry || !check) continue;
      if (firstLeft === i) firstLeft = undefined;
      if (!check.ok || !check.image) {
        this.edit(ip, () => {
          target.status = {
            ...target.status,
            state: 'failed',
            lastError: `image not verified: ${failureText({ type: check.errorType, message: check.error ?? '' })}`,
          };
        });
        continue;
      }
      const image = check.image;
      this.edit(ip, () => {
        target.child = 'running';
        target.status = {
          ...target.status,
          state: 'pending',
          image: entry.imageFile,
          targetVersion: image.version,
          targetBuild: image.build,
        };
      });
      starts.push({ controller, entry, image, generation: ++target.generation });
    }
    this.scanFrom = firstLeft ?? order.length;
    return starts;
  }

  /**
   * The campaign's first verification failed and it ends without dispatching: no target is left
   * "waiting", each says why it will not be upgraded.
   */
  failUnverified(): void {
    const failedModels = this.verifications()
      .filter((v) => !v.ok)
      .map((v) => v.model);
    for (const [ip, target] of Object.entries(this.targets)) {
      if (target.child !== 'none' || target.status.state !== 'waiting-verification') continue;
      const entry = this.modelImage(target.status.model);
      const check = entry && this.checks[imageKey(entry, this.config.profile.allowUnsigned)];
      this.edit(ip, () => {
        target.status = {
          ...target.status,
          state: 'failed',
          lastError:
            check && !check.ok
              ? `image not verified: ${failureText({ type: check.errorType, message: check.error ?? '' })}`
              : `not started: the campaign's image verification failed (${failedModels.join(', ')})`,
        };
      });
    }
  }

  /**
   * How many more children may start now: twice max-downloads may be alive before their download
   * (looking, waiting for a slot, holding one), so a child's look overlaps another's download.
   * Starting every child at once queued thousands of first tasks ahead of the few holding a slot,
   * and kept them all in the workers' memory. Without `ahead`, only as many as there are free
   * slots: each child starts with its slot, one master command instead of a start and a grant.
   */
  startRoom(ahead = true): number {
    const alive = (ahead ? 2 : 1) * this.config.profile.maxDownloads;
    return Math.max(0, alive - this.tally.beforeDownload);
  }

  /** How many targets the campaign has. */
  size(): number {
    return this.tally.all;
  }

  /** Every target final and no child still running. */
  done(): boolean {
    return this.tally.unfinished === 0;
  }

  /** Targets per state, in the order of controllerStates. */
  counts(): Partial<Record<ControllerStatus['state'], number>> {
    return this.tally.counts();
  }

  verifications(): ModelVerification[] {
    const models = new Set(Object.values(this.targets).map((t) => t.status.model));
    return [...models].sort().flatMap((model) => {
      const entry = this.modelImage(model);
      const check = entry && this.checks[imageKey(entry, this.config.profile.allowUnsigned)];
      if (!entry || !check) return [];
      return [
        {
          model,
          imageFile: entry.imageFile,
          ok: check.ok,
          version: check.image?.version,
          build: check.image?.build,
          error: check.error,
          errorType: check.errorType,
        },
      ];
    });
  }

  private controllerStatuses(): ControllerStatus[] {
    const listed = this.config.inventory.map(
      (c): ControllerStatus =>
        this.targets[c.ip]?.status ?? {
          ip: c.ip,
          model: c.model,
          role: c.role,
          state: 'not-targeted',
          attempts: 0,
        },
    );
    const inInventory = new Set(this.config.inventory.map((c) => c.ip));
    return [
      ...listed,
      ...Object.values(this.targets)
        .filter((t) => !inInventory.has(t.status.ip))
        .map((t) => t.status),
    ];
  }

  /** The upgradeStatus query's answer: counts over all controllers, one page of those the request matches. */
  status(request: StatusRequest = {}, now = Date.now()): CampaignStatus {
    const all = this.controllerStatuses();
    const matching = all.filter(
      (c) =>
        (request.controller === undefined || c.ip === request.controller) &&
        (request.state === undefined || c.state === request.state),
    );
    const offset = request.offset ?? 0;
    const limit = request.limit ?? statusPageLimit;
    const groups = new Map(
      this.config.inventory.flatMap((c) => (c.group === undefined ? [] : [[c.ip, c.group] as const])),
    );
    let memberView: Map<string, GroupMember> | undefined;
    const members = () => (memberView ??= this.groupMembers());
    return {
      campaign: this.campaign,
      phase: this.phase,
      revision: this.revision,
      verifications: this.verifications(),
      unmatchedSelectors: this.unmatched,
      ...(this.ignoredPurges.length > 0 ? { ignoredPurges: this.ignoredPurges } : {}),
      controllers: matching
        .slice(offset, offset + limit)
        .map((c) => this.withRedundancy(this.withControl(c), groups, members)),
      page: { offset, limit, total: matching.length },
      counts: countStates(all),
      downloadSlots: {
        inUse: this.slots.inUse,
        max: this.config.profile.maxDownloads,
        waiting: this.slots.waiting,
      },
      ...this.controlStatus(now),
    };
  }

  /** A controller's status with its wave and whether it is paused (only when the campaign has them). */
  private withControl(c: ControllerStatus): ControllerStatus {
    if (c.state === 'not-targeted') return c;
    const wave = this.control.waveOf(c.ip);
    const paused = this.control.isPaused(c.ip);
    if (wave === undefined && !paused) return c;
    return { ...c, ...(wave === undefined ? {} : { wave }), ...(paused ? { paused } : {}) };
  }

  private controlStatus(now: number): Partial<CampaignStatus> {
    const halt = this.control.halted;
    const pause = this.control.pauseStatus();
    const waves = this.control.waveStatus(now);
    const budget = this.config.profile.maxFailures;
    return {
      state: this.control.stateWord(this.phase === 'completed'),
      ...(halt ? { halt } : {}),
      ...(pause ? { pause } : {}),
      ...(waves ? { waves } : {}),
      ...(budget === undefined ? {} : { maxFailures: describeBudget(budget, this.control.targetedCount) }),
    };
  }

  /** Failure budgets and waves (CampaignControl.advance); sets `dirty` when a wave opened or the campaign halted. */
  advanceControl(now: number): number | undefined {
    const { changed, wakeInMs } = this.control.advance(now);
    if (changed) {
      this.dirty = true;
      if (this.control.halted)
        this.log.warn('campaign halted', { campaign: this.campaign, reason: this.control.halted.reason });
    }
    return wakeInMs;
  }

  /** pauseCampaign: paused controllers start nothing new; with abortDownloads their downloads stop. */
  pause(request: PauseRequest, now: number): PauseResult {
    const result = this.control.pause(request, Object.keys(this.targets), now);
    this.log.info('campaign paused', {
      campaign: this.campaign,
      whole: result.campaign,
      controllers: result.paused.length,
      aborting: result.aborting.length,
    });
    this.dirty = true;
    return result;
  }

  /** resumeCampaign: a whole-campaign resume also clears a failure-budget halt. */
  resume(request: ResumeRequest): ResumeResult {
    const result = this.control.resume(request, Object.keys(this.targets));
    this.log.info('campaign resumed', {
      campaign: this.campaign,
      controllers: result.resumed.length,
      clearedHalt: result.clearedHalt,
    });
    this.dirty = true;
    return result;
  }

  /** Controllers whose downloads the master must stop now (pause with abortDownloads); each once. */
  takePendingAborts(): string[] {
    return this.control.takeAborts();
  }

  /**
   * retryTargets: failed, pre-check-failed, rolled-back and purged targets still targeted start a new
   * child in this campaign, their attempts kept and their last error added to previousErrors.
   */
  retry(request: RetryRequest): RetryResult {
    const known = Object.keys(this.targets);
    const idle = request.selectors.filter((s) => matchingIps(known, [s]).length === 0);
    const targeted = new Set(
      resolveTargets(this.config.inventory, this.config.targets).controllers.map((c) => c.ip),
    );
    const retried: string[] = [];
    const skipped: RetryResult['skipped'] = [];
    for (const ip of matchingIps(known, request.selectors)) {
      const entry = this.targets[ip]!;
      const { state } = entry.status;
      if (!retryableStates.includes(state) || entry.child === 'running' || !targeted.has(ip)) {
        skipped.push({
          ip,
          state: !retryableStates.includes(state)
            ? state
            : !targeted.has(ip)
              ? `${state}, no longer targeted`
              : `${state}, its child is still stopping`,
        });
        continue;
      }
      const { model, role, attempts, lastError, previousErrors = [] } = entry.status;
      const entryImage = this.modelImage(model);
      const key = entryImage && imageKey(entryImage, this.config.profile.allowUnsigned);
      // A failed image check is done again: the operator may have fixed the image server.
      if (key && this.checks[key] && !this.checks[key].ok) delete this.checks[key];
      this.edit(ip, () => {
        this.targets[ip] = {
          child: 'none',
          generation: entry.generation,
          status: {
            ip,
            model,
            role,
            state: 'waiting-verification',
            attempts,
            previousErrors: [
              ...previousErrors,
              `${stateLabels[state]}: ${lastError ?? 'no error recorded'}`,
            ].slice(-previousErrorsKept),
          },
        };
      });
      retried.push(ip);
    }
    this.log.info('targets retried', {
      campaign: this.campaign,
      retried: retried.length,
      skipped: skipped.length,
    });
    this.dirty = true;
    const heldBy = retried.map((ip) => this.control.holdsBack(ip)).find((why) => why !== undefined);
    return { retried, skipped, matchingNoTarget: idle, ...(heldBy ? { heldBy } : {}) };
  }

  /**
   * A retry after completion: the completed run's controllers, final and with no child, as they
   * ended (a controller no longer in the inventory is left out); then `retry` starts the selected ones.
   * The failures left are forgiven, as a resume does: a budget counts only those after the retry.
   */
  retryCompleted(controllers: readonly SeededController[], selectors: string[]): RetryResult {
    const inventory = this.inventoryByIp();
    this.unmatched = resolveTargets(this.config.inventory, this.config.targets).unmatched;
    for (const seeded of controllers) {
      const c = inventory.get(seeded.ip);
      if (!c) {
        this.log.info('not seeded: no longer in the inventory', {
          campaign: this.campaign,
          controller: seeded.ip,
        });
        continue;
      }
      const { ip, state, attempts, lastError, previousErrors } = seeded;
      this.edit(ip, () => {
        this.targets[ip] = {
          child: 'closed',
          generation: 0,
          status: {
            ip,
            model: c.model,
            role: c.role,
            state,
            attempts,
            ...(lastError === undefined ? {} : { lastError }),
            ...(previousErrors === undefined ? {} : { previousErrors }),
          },
        };
      });
    }
    const result = this.retry({ selectors });
    this.control.forgiveFailures();
    return result;
  }

  /** Details lines for the Web UI (halt, pause, waves); none for a campaign without them. */
  controlDetails(now: number): string[] {
    return this.control.details(now);
  }

  /** masterUpgrade's result. */
  summary(outcome: CampaignSummary['outcome']): CampaignSummary {
    const targeted = Object.values(this.targets).map((t) => t.status);
    return {
      campaign: this.campaign,
      outcome,
      revision: this.revision,
      verifications: this.verifications(),
      unmatchedSelectors: this.unmatched,
      counts: countStates(targeted),
      // The result is one payload for every target: each error is cut shorter than in the status.
      controllers: targeted.map(({ ip, model, state, attempts, lastError, previousErrors }) => ({
        ip,
        model,
        state,
        attempts,
        lastError: lastError === undefined ? undefined : boundText(lastError, summaryErrorLength),
        // A retry after completion carries the cause history on from here.
        ...(previousErrors?.length
          ? { previousErrors: previousErrors.map((e) => boundText(e, summaryErrorLength)) }
          : {}),
      })),
    };
  }
}
