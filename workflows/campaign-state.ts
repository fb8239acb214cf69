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
  countStates,
  finalStates,
  type CampaignPhase,
  type CampaignStatus,
  type CampaignSummary,
  type ControllerStatus,
  type ModelVerification,
} from '../src/domain/status';
import { statusPageLimit, type StatusRequest } from '../src/domain/status-request';
import { matchingIps, parseSelector, resolveTargets } from '../src/domain/targets';
import type { CampaignConfig, Controller, ModelImage } from '../src/domain/types';
import type { CommitResult, ControllerReport, PurgeResult } from './definitions';

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

  release(ip: string): void {
    this.state.holders = this.state.holders.filter((h) => h !== ip);
    this.state.queue = this.state.queue.filter((q) => q !== ip);
  }

  /** Hands free slots to the longest waiting, first come first served; returns every grant to send now. */
  grant(max: number): string[] {
    const { holders, queue, grants } = this.state;
    while (holders.length < max && queue.length > 0) {
      const ip = queue.shift() as string;
      holders.push(ip);
      grants.push(ip);
    }
    return grants.splice(0);
  }

  snapshot(): SlotState {
    return this.state;
  }
}

/** Characters of a lastError in masterUpgrade's result (3,000 targets stay far under Temporal's 2 MiB). */
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

/** One campaign's targets, image checks and download slots, and every transition between them. */
export class CampaignState {
  revision: number;
  phase: CampaignPhase;
  /** Something changed that the main loop has not acted on yet. */
  dirty = true;
  readonly slots: DownloadSlots;
  private readonly targets: Record<string, TargetEntry>;
  private readonly checks: Record<string, ImageCheck>;
  private unmatched: string[];
  private ignoredPurges: string[];

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
    this.unmatched = carried?.unmatched ?? [];
    this.ignoredPurges = carried?.ignoredPurges ?? [];
    this.phase = carried ? 'running' : 'verifying';
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
    };
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
      else this.targets[c.ip] = freshEntry(c, existing?.generation ?? 0);
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
      entry.status = { ...entry.status, state: 'purged', lastError: entry.status.lastError };
      if (entry.child === 'running') entry.purgePending = true;
      this.slots.release(ip);
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
    const entry = this.targets[report.ip];
    if (!entry || entry.child !== 'running') return;
    if (closed) entry.child = 'closed';
    if (closed || report.releasesSlot) this.slots.release(report.ip);
    // Reports are sent without waiting, so one can overtake an earlier one: the earlier one changes nothing.
    if (!closed && report.updatedAt !== undefined && report.updatedAt < (entry.status.updatedAt ?? '')) {
      this.dirty = true;
      return;
    }
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
    const again =
      closed && entry.restartWhenClosed ? this.config.inventory.find((c) => c.ip === report.ip) : undefined;
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
    const entry = this.targets[ip];
    if (entry) entry.child = 'closed';
    this.slots.release(ip);
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
    if (downloadWindow !== undefined || startAt !== undefined) return false;
    return this.slots.take(ip, maxDownloads);
  }

  /**
   * Hands free download slots out (DownloadSlots.grant) and shows each newly granted controller as
   * downloading its cycle's first try, as its child does on the grant without reporting it.
   */
  grantSlots(): string[] {
    const granted = this.slots.grant(this.config.profile.maxDownloads);
    for (const ip of granted) {
      const entry = this.targets[ip];
      if (!entry || entry.status.state === 'downloading' || isFinal(entry)) continue;
      entry.status = {
        ...entry.status,
        state: 'downloading',
        attempt: 1,
        attempts: entry.status.attempts + 1,
      };
      delete entry.status.nextRetryAt;
      delete entry.status.windowOpensAt;
      delete entry.status.window;
    }
    return granted;
  }

  /** Running children whose purge they have not been told yet; each is returned once. */
  takePendingPurges(): string[] {
    const ips: string[] = [];
    for (const [ip, entry] of Object.entries(this.targets)) {
      if (!entry.purgePending) continue;
      entry.purgePending = false;
      ips.push(ip);
    }
    return ips;
  }

  /** Images waiting targets need and nobody checked yet, one per distinct image. */
  imagesToVerify(): ImageToVerify[] {
    const byKey = new Map<string, ImageToVerify>();
    for (const target of Object.values(this.targets)) {
      if (target.child !== 'none' || target.status.state !== 'waiting-verification') continue;
      const entry = this.modelImage(target.status.model);
      if (!entry) continue;
      const key = imageKey(entry, this.config.profile.allowUnsigned);
      if (this.checks[key]) continue;
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
  takeDispatches(batch: number): Dispatch[] {
    const starts: Dispatch[] = [];
    const inventory = new Map(this.config.inventory.map((c) => [c.ip, c]));
    for (const target of Object.values(this.targets)) {
      if (target.child !== 'none' || target.status.state !== 'waiting-verification') continue;
      if (starts.length >= batch) {
        this.dirty = true;
        break;
      }
      const controller = inventory.get(target.status.ip);
      const entry = this.modelImage(target.status.model);
      const check = entry && this.checks[imageKey(entry, this.config.profile.allowUnsigned)];
      if (!controller || !entry || !check) continue;
      if (!check.ok || !check.image) {
        target.status = {
          ...target.status,
          state: 'failed',
          lastError: `image not verified: ${failureText({ type: check.errorType, message: check.error ?? '' })}`,
        };
        continue;
      }
      const image = check.image;
      target.child = 'running';
      target.status = {
        ...target.status,
        state: 'pending',
        image: entry.imageFile,
        targetVersion: image.version,
        targetBuild: image.build,
      };
      starts.push({ controller, entry, image, generation: ++target.generation });
    }
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
    for (const target of Object.values(this.targets)) {
      if (target.child !== 'none' || target.status.state !== 'waiting-verification') continue;
      const entry = this.modelImage(target.status.model);
      const check = entry && this.checks[imageKey(entry, this.config.profile.allowUnsigned)];
      target.status = {
        ...target.status,
        state: 'failed',
        lastError:
          check && !check.ok
            ? `image not verified: ${failureText({ type: check.errorType, message: check.error ?? '' })}`
            : `not started: the campaign's image verification failed (${failedModels.join(', ')})`,
      };
    }
  }

  /** Every target final and no child still running. */
  done(): boolean {
    return Object.values(this.targets).every((t) => isFinal(t) && t.child !== 'running');
  }

  counts(): Partial<Record<ControllerStatus['state'], number>> {
    return countStates(Object.values(this.targets).map((t) => t.status));
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
  status(request: StatusRequest = {}): CampaignStatus {
    const all = this.controllerStatuses();
    const matching = all.filter(
      (c) =>
        (request.controller === undefined || c.ip === request.controller) &&
        (request.state === undefined || c.state === request.state),
    );
    const offset = request.offset ?? 0;
    const limit = request.limit ?? statusPageLimit;
    return {
      campaign: this.campaign,
      phase: this.phase,
      revision: this.revision,
      verifications: this.verifications(),
      unmatchedSelectors: this.unmatched,
      ...(this.ignoredPurges.length > 0 ? { ignoredPurges: this.ignoredPurges } : {}),
      controllers: matching.slice(offset, offset + limit),
      page: { offset, limit, total: matching.length },
      counts: countStates(all),
      downloadSlots: {
        inUse: this.slots.inUse,
        max: this.config.profile.maxDownloads,
        waiting: this.slots.waiting,
      },
    };
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
      controllers: targeted.map(({ ip, model, state, attempts, lastError }) => ({
        ip,
        model,
        state,
        attempts,
        lastError: lastError === undefined ? undefined : boundText(lastError, summaryErrorLength),
      })),
    };
  }
}
