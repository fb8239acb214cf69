import {
  ApplicationFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { VerifiedImage } from '../activities/types';
import { canonicalJson } from '../src/domain/canonical-json';
import { validateCampaignConfig } from '../src/domain/config';
import { failureTypes } from '../src/domain/errors';
import {
  countStates,
  finalStates,
  type CampaignPhase,
  type CampaignStatus,
  type CampaignSummary,
  type ControllerStatus,
  type ModelVerification,
} from '../src/domain/status';
import { matchingIps, parseSelector, resolveTargets } from '../src/domain/targets';
import type { ControllerModel } from '../src/domain/models';
import type { CampaignConfig, Controller, ModelImage } from '../src/domain/types';
import { headerCheck } from './activity-options';
import { controllerUpgrade, type ControllerUpgradeResult } from './controller-upgrade';
import {
  commitConfigUpdate,
  controllerUpdateSignal,
  controllerWorkflowId,
  downloadSlotGrantSignal,
  downloadSlotRequestSignal,
  purgeSignal,
  purgeTargetsSignal,
  upgradeStatusQuery,
  type CommitResult,
  type ControllerReport,
} from './definitions';
import { describeFailure, failureText } from './failures';
import { attemptsKey, campaignKey, controllerKey, modelKey, stateKey } from './search-attributes';

/** A targeted (or formerly targeted) controller, as the master tracks it. */
interface TargetEntry {
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
interface ImageCheck {
  ok: boolean;
  image?: VerifiedImage;
  error?: string;
  errorType?: string;
}

/** Everything masterUpgrade carries across continue-as-new. */
export interface MasterCarried {
  revision: number;
  targets: Record<string, TargetEntry>;
  checks: Record<string, ImageCheck>;
  /** Download slots: who holds one, who waits for one, and grants not yet sent. */
  slots: { holders: string[]; queue: string[]; grants: string[] };
  unmatched: string[];
  /** Absent in runs carried before it existed. */
  ignoredPurges?: string[];
}

/** Options for masterUpgrade beyond the config. */
export interface MasterOptions {
  /** Upsert search attributes and set them on children. Default true; false on a server without the ciu attributes registered. */
  searchAttributes?: boolean;
  /** History length at which the master continues as new (or earlier, when the server suggests). Default 6,000. */
  historyLimit?: number;
}

/** Children started per workflow task: a task's commands (each with its input) travel in one gRPC message of at most 4 MB. */
const dispatchBatch = 200;

function imageKey(entry: ModelImage): string {
  const { imageFile, server, protocol, credentialsRef, expectedVersion, expectedBuild } = entry;
  return canonicalJson({ imageFile, server, protocol, credentialsRef, expectedVersion, expectedBuild });
}

/**
 * One campaign: verify every image the targets need (headers only), then one controllerUpgrade child
 * per target, with max-downloads enforced here. Accepts purgeTargets and commitConfig at any time;
 * ends when every target is final.
 */
export async function masterUpgrade(
  input: CampaignConfig,
  carried?: MasterCarried,
  options: MasterOptions = {},
): Promise<CampaignSummary> {
  const validation = validateCampaignConfig(input);
  if (!validation.ok)
    throw ApplicationFailure.nonRetryable(validation.issues.join('; '), failureTypes.invalidInput);
  let config = validation.config;
  const campaign = workflowInfo().workflowId;
  const useSearchAttributes = options.searchAttributes !== false;
  const historyLimit = options.historyLimit ?? 6_000;

  let revision = carried?.revision ?? 1;
  const targets: Record<string, TargetEntry> = carried?.targets ?? {};
  const checks: Record<string, ImageCheck> = carried?.checks ?? {};
  const slots = carried?.slots ?? { holders: [], queue: [], grants: [] };
  let unmatched = carried?.unmatched ?? [];
  let ignoredPurges = carried?.ignoredPurges ?? [];
  let phase: CampaignPhase = carried ? 'running' : 'verifying';
  let dirty = true;

  if (!carried && useSearchAttributes) upsertSearchAttributes([{ key: campaignKey, value: campaign }]);

  function modelImage(model: string): ModelImage | undefined {
    return config.profile.models[model as ControllerModel];
  }

  function applyTargets(): { added: string[]; removed: string[] } {
    const resolved = resolveTargets(config.inventory, config.targets);
    unmatched = resolved.unmatched;
    const wanted = new Set(resolved.controllers.map((c) => c.ip));
    const added: string[] = [];
    for (const c of resolved.controllers) {
      const existing = targets[c.ip];
      if (existing && existing.status.state !== 'purged') continue;
      added.push(c.ip);
      if (existing?.child === 'running') existing.restartWhenClosed = true;
      else targets[c.ip] = freshEntry(c, existing?.generation ?? 0);
    }
    const removed = Object.keys(targets).filter((ip) => !wanted.has(ip) && !isFinal(targets[ip]!));
    purge(removed, 'target removed from the committed config');
    return { added, removed };
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

  function purge(ips: string[], why: string): void {
    for (const ip of ips) {
      const entry = targets[ip];
      if (!entry || isFinal(entry)) continue;
      entry.status = { ...entry.status, state: 'purged', lastError: entry.status.lastError };
      if (entry.child === 'running') entry.purgePending = true;
      releaseSlot(ip);
      log.info('target purged', { campaign, controller: ip, why });
    }
    dirty = true;
  }

  function releaseSlot(ip: string): void {
    slots.holders = slots.holders.filter((h) => h !== ip);
    slots.queue = slots.queue.filter((q) => q !== ip);
    dirty = true;
  }

  function applyReport(report: ControllerReport, closed: boolean): void {
    const entry = targets[report.ip];
    if (!entry || entry.child !== 'running') return;
    if (closed) entry.child = 'closed';
    if (closed || report.releasesSlot) releaseSlot(report.ip);
    if (entry.status.state === 'purged') {
      // A purge decided here wins over a child's last word about an older state.
      const { final: _final, releasesSlot: _releases, ...status } = report;
      entry.status = { ...entry.status, ...status, state: 'purged' };
    } else {
      const { final: _final, releasesSlot: _releases, ...status } = report;
      entry.status = { ...entry.status, ...status };
    }
    // A merge keeps what a partial report (a child's result) does not carry; these two only mean something in their state.
    if (entry.status.state !== 'downloading') delete entry.status.attempt;
    if (entry.status.state !== 'waiting-retry') delete entry.status.nextRetryAt;
    const again =
      closed && entry.restartWhenClosed ? config.inventory.find((c) => c.ip === report.ip) : undefined;
    if (again) {
      targets[report.ip] = freshEntry(again, entry.generation);
      log.info('target restarts', { campaign, controller: report.ip });
    }
    if (report.state === 'failed' || report.state === 'waiting-retry')
      log.warn('controller upgrade problem', {
        campaign,
        controller: report.ip,
        state: report.state,
        attempts: report.attempts,
        error: report.lastError,
      });
    dirty = true;
  }

  function verifications(): ModelVerification[] {
    const models = new Set(Object.values(targets).map((t) => t.status.model));
    return [...models].sort().flatMap((model) => {
      const entry = modelImage(model);
      if (!entry) return [];
      const check = checks[imageKey(entry)];
      if (!check) return [];
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

  function controllerStatuses(): ControllerStatus[] {
    const listed = config.inventory.map(
      (c): ControllerStatus =>
        targets[c.ip]?.status ?? {
          ip: c.ip,
          model: c.model,
          role: c.role,
          state: 'not-targeted',
          attempts: 0,
        },
    );
    const inInventory = new Set(config.inventory.map((c) => c.ip));
    return [
      ...listed,
      ...Object.values(targets)
        .filter((t) => !inInventory.has(t.status.ip))
        .map((t) => t.status),
    ];
  }

  function status(): CampaignStatus {
    const controllers = controllerStatuses();
    return {
      campaign,
      phase,
      revision,
      verifications: verifications(),
      unmatchedSelectors: unmatched,
      ...(ignoredPurges.length > 0 ? { ignoredPurges } : {}),
      controllers,
      counts: countStates(controllers),
      downloadSlots: {
        inUse: slots.holders.length,
        max: config.profile.maxDownloads,
        waiting: slots.queue.length,
      },
    };
  }

  function summary(outcome: CampaignSummary['outcome']): CampaignSummary {
    const targeted = Object.values(targets).map((t) => t.status);
    return {
      campaign,
      outcome,
      revision,
      verifications: verifications(),
      unmatchedSelectors: unmatched,
      counts: countStates(targeted),
      controllers: targeted.map(({ ip, model, state, attempts, lastError }) => ({
        ip,
        model,
        state,
        attempts,
        lastError,
      })),
    };
  }

  setHandler(upgradeStatusQuery, status);
  setHandler(purgeTargetsSignal, (selectors) => {
    const list = (Array.isArray(selectors) ? selectors : [selectors]).map(String);
    const invalid = list.filter((selector) => parseSelector(selector) === undefined);
    const idle = list.filter(
      (selector) => !invalid.includes(selector) && matchingIps(Object.keys(targets), [selector]).length === 0,
    );
    if (invalid.length > 0 || idle.length > 0) {
      log.warn('purge selectors ignored', { campaign, invalid, matchingNoTarget: idle });
      ignoredPurges = [
        ...ignoredPurges,
        ...invalid.map((selector) => `"${selector}": not an IPv4 address, CIDR subnet or all`),
        ...idle.map((selector) => `"${selector}": matches no target of this campaign`),
      ].slice(-20);
    }
    const ips = matchingIps(Object.keys(targets), list);
    log.info('purge requested', { campaign, selectors: list, matched: ips.length });
    purge(ips, `purgeTargets ${list.join(' ')}`);
  });
  setHandler(controllerUpdateSignal, (report) => applyReport(report, report.final === true));
  setHandler(downloadSlotRequestSignal, ({ ip }) => {
    const entry = targets[ip];
    if (!entry || entry.status.state === 'purged') return;
    if (!slots.holders.includes(ip) && !slots.queue.includes(ip)) slots.queue.push(ip);
    else if (slots.holders.includes(ip)) slots.grants.push(ip);
    dirty = true;
  });
  setHandler(
    commitConfigUpdate,
    (next): CommitResult => {
      const validated = validateCampaignConfig(next);
      if (!validated.ok) throw new Error(validated.issues.join('; '));
      if (canonicalJson(validated.config) === canonicalJson(config))
        return { revision, changed: false, added: [], removed: [] };
      config = validated.config;
      revision++;
      const { added, removed } = applyTargets();
      log.info('config committed', { campaign, revision, added: added.length, removed: removed.length });
      return { revision, changed: true, added, removed };
    },
    {
      validator: (next) => {
        const validated = validateCampaignConfig(next);
        if (!validated.ok) throw new Error(validated.issues.join('; '));
      },
    },
  );

  async function verifyNeeded(): Promise<void> {
    const byKey = new Map<string, { entry: ModelImage; models: Set<string> }>();
    for (const target of Object.values(targets)) {
      if (target.child !== 'none' || target.status.state !== 'waiting-verification') continue;
      const entry = modelImage(target.status.model);
      if (!entry) continue;
      const key = imageKey(entry);
      if (checks[key]) continue;
      const group = byKey.get(key) ?? { entry, models: new Set<string>() };
      group.models.add(target.status.model);
      byKey.set(key, group);
    }
    if (byKey.size === 0) return;
    phase = 'verifying';
    setCurrentDetails(`**Verifying** ${byKey.size} image(s)`);
    await Promise.all(
      [...byKey].map(async ([key, { entry, models }]) => {
        try {
          const image = await headerCheck.verifyImage({
            source: {
              imageFile: entry.imageFile,
              server: entry.server,
              protocol: entry.protocol,
              credentialsRef: entry.credentialsRef,
            },
            models: [...models].sort(),
            expectedVersion: entry.expectedVersion,
            expectedBuild: entry.expectedBuild,
          });
          checks[key] = { ok: true, image };
          log.info('image verified', {
            campaign,
            imageFile: entry.imageFile,
            models: [...models],
            version: image.version,
            build: image.build,
          });
        } catch (err) {
          const failure = describeFailure(err);
          checks[key] = { ok: false, error: failure.message, errorType: failure.type };
          log.error('image verification failed', {
            campaign,
            imageFile: entry.imageFile,
            models: [...models],
            error: failureText(failure),
          });
        }
      }),
    );
  }

  async function dispatch(): Promise<void> {
    const starts: Promise<void>[] = [];
    const inventory = new Map(config.inventory.map((c) => [c.ip, c]));
    for (const target of Object.values(targets)) {
      if (target.child !== 'none' || target.status.state !== 'waiting-verification') continue;
      if (starts.length >= dispatchBatch) {
        dirty = true;
        break;
      }
      const controller = inventory.get(target.status.ip);
      const entry = modelImage(target.status.model);
      const check = entry && checks[imageKey(entry)];
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
      const generation = ++target.generation;
      target.status = {
        ...target.status,
        state: 'pending',
        image: entry.imageFile,
        targetVersion: image.version,
        targetBuild: image.build,
      };
      starts.push(
        (async () => {
          const handle = await startChild(controllerUpgrade, {
            workflowId: controllerWorkflowId(campaign, controller.ip),
            // Children outlive a continue-as-new of the master; they report by signal, not by result.
            parentClosePolicy: ParentClosePolicy.ABANDON,
            staticSummary: `${controller.ip} ${controller.model} → ${image.version} build ${image.build}`,
            typedSearchAttributes: useSearchAttributes
              ? [
                  { key: campaignKey, value: campaign },
                  { key: controllerKey, value: controller.ip },
                  { key: modelKey, value: controller.model },
                  { key: stateKey, value: 'pending' },
                  { key: attemptsKey, value: 0 },
                ]
              : [],
            args: [
              {
                campaign,
                controller,
                source: {
                  imageFile: entry.imageFile,
                  server: entry.server,
                  protocol: entry.protocol,
                  credentialsRef: entry.credentialsRef,
                },
                image,
                autoboot: config.profile.autoboot,
                retryInterval: config.profile.retryInterval,
                quickTries: config.profile.quickTries,
                quickTryBackoff: config.profile.quickTryBackoff,
                partition: config.profile.partition,
                master: { workflowId: campaign },
                searchAttributes: useSearchAttributes,
              },
            ],
          });
          // Within this run the child's own completion is a second source for its final state.
          const ip = controller.ip;
          const current = () => targets[ip]?.generation === generation;
          void handle.result().then(
            ({ cycles: _cycles, ...result }: ControllerUpgradeResult) => {
              if (current()) applyReport({ ...result, final: true }, true);
            },
            (err: unknown) => {
              if (current())
                applyReport(
                  {
                    ip,
                    state: 'failed',
                    attempts: target.status.attempts,
                    lastError: failureText(describeFailure(err)),
                  },
                  true,
                );
            },
          );
        })(),
      );
    }
    await Promise.all(starts);
  }

  async function tellChildren(): Promise<void> {
    const sends: Promise<void>[] = [];
    for (const [ip, entry] of Object.entries(targets)) {
      if (!entry.purgePending) continue;
      entry.purgePending = false;
      sends.push(
        signalChild(ip, () =>
          getExternalWorkflowHandle(controllerWorkflowId(campaign, ip)).signal(purgeSignal),
        ),
      );
    }
    while (slots.holders.length < config.profile.maxDownloads && slots.queue.length > 0) {
      const ip = slots.queue.shift() as string;
      slots.holders.push(ip);
      slots.grants.push(ip);
    }
    for (const ip of slots.grants.splice(0))
      sends.push(
        signalChild(ip, () =>
          getExternalWorkflowHandle(controllerWorkflowId(campaign, ip)).signal(downloadSlotGrantSignal),
        ),
      );
    await Promise.all(sends);
  }

  async function signalChild(ip: string, send: () => Promise<void>): Promise<void> {
    try {
      await send();
    } catch (err) {
      // The child already ended (it reported before closing); nothing to stop or grant.
      log.info('child not signalled', { campaign, controller: ip, error: describeFailure(err).message });
      const entry = targets[ip];
      if (entry) entry.child = 'closed';
      releaseSlot(ip);
    }
  }

  function done(): boolean {
    const all = Object.values(targets);
    return all.every((t) => isFinal(t) && t.child !== 'running');
  }

  if (!carried) {
    applyTargets();
    await verifyNeeded();
    const failed = verifications().filter((v) => !v.ok);
    if (failed.length > 0) {
      phase = 'verification-failed';
      setCurrentDetails(`**Verification failed**: ${failed.map((v) => `${v.model}: ${v.error}`).join('; ')}`);
      log.error('verification failed; nothing dispatched', { campaign, models: failed.map((v) => v.model) });
      await condition(allHandlersFinished);
      return summary('verification-failed');
    }
  }
  phase = 'running';

  for (;;) {
    await condition(() => dirty);
    dirty = false;
    await verifyNeeded();
    phase = 'running';
    await dispatch();
    await tellChildren();
    const counts = countStates(Object.values(targets).map((t) => t.status));
    setCurrentDetails(
      Object.entries(counts)
        .map(([state, n]) => `${state}: ${n}`)
        .join(', '),
    );
    if (done() && !dirty) break;
    // Everything pending is in the carried state, so a busy master (always dirty) still hands over in time.
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > historyLimit) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof masterUpgrade>(
        config,
        { revision, targets, checks, slots, unmatched, ignoredPurges },
        options,
      );
    }
  }
  phase = 'completed';
  await condition(allHandlersFinished);
  return summary('completed');
}
