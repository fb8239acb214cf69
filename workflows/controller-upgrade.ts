import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  TemporalFailure,
  workflowInfo,
} from '@temporalio/workflow';
import { boundIssues } from '../src/domain/bounded';
import { validate } from '../src/domain/config';
import { parseDuration } from '../src/domain/duration';
import { failureText, failureTypes } from '../src/domain/errors';
import { preCheckFailure, preCheckProblems } from '../src/domain/pre-checks';
import { describeWindow, windowState, type MaintenanceWindow } from '../src/domain/windows';
import {
  controllerUpgradeInputSchema,
  type ControllerCarried,
  type ControllerFacts,
  type ControllerUpgradeInput,
} from '../src/domain/schemas';
import type { ControllerState, ControllerStatus } from '../src/domain/status';
import type { ControllerLook, RebootResult } from '../activities/types';
import { localLook, reboot, shortCommand, transfer } from './activity-options';
import {
  ControllerProgress,
  QuickTryCycle,
  targetPartition,
  type AttributeChanges,
  type ControllerUpgradeResult,
} from './controller-progress';
import {
  controllerStatusQuery,
  controllerReportSignal,
  downloadSlotGrantSignal,
  downloadSlotRequestSignal,
  purgeSignal,
  abortDownloadSignal,
  rebootPermitGrantSignal,
  rebootPermitRequestSignal,
  reportEndBySignal,
  rolloutTimingSignal,
  type ControllerReport,
  type RolloutTiming,
} from './definitions';
import { describeFailure, isPermanent, refusal } from './failures';
import { ForgedMessages, sealFromHere } from './message-auth';
import { attemptsKey, stateKey } from './search-attributes';

export type { ControllerCarried, ControllerUpgradeInput };
export type { ControllerUpgradeResult } from './controller-progress';

/** A quick-try cycle used up its tries. */
class CycleFailed extends Error {
  override readonly name = 'CycleFailed';
}

/**
 * The local look ended because its worker is stopping: thrown out of the workflow, it fails the
 * workflow task, which the next worker runs again, look included. Not a try of the controller.
 */
class WorkerStopped extends Error {
  override readonly name = 'WorkerStopped';
}

class Purged extends Error {
  override readonly name = 'Purged';
}

/** A pre-check failed: the controller ends 'pre-check-failed' with this failure. */
class PreCheckFailed extends Error {
  override readonly name = 'PreCheckFailed';
  constructor(readonly failure: { type: string; message: string }) {
    super(failure.message);
  }
}

/** The controller came back on the wrong image and was booted back into its previous one. */
class RolledBack extends Error {
  override readonly name = 'RolledBack';
}

/**
 * The failure of a check's read the controller refused or ciu could not parse: such a check is
 * skipped, not failed (its copy or reload still reports a real problem). Undefined for any other error.
 */
function unreadableReply(err: unknown): { type?: string; message: string } | undefined {
  const failure = describeFailure(err);
  return failure.type === failureTypes.unexpectedControllerReply ||
    failure.type === failureTypes.commandRejected
    ? failure
    : undefined;
}

/** patched() ID: controllers started before it downloaded without reading `show storage` first. */
const preChecksPatch = 'pre-checks-before-download';
/** patched() ID: the fallback reboot after a wrong-version boot. */
const fallbackPatch = 'fallback-to-previous-partition';
/** patched() ID: waits for start-at and the download and reboot windows. */
const windowsPatch = 'maintenance-windows';
/**
 * patched() ID: children started before it awaited each report and slot request to the master (a
 * workflow task per send, on the download's path; now only the last report is awaited), and upserted
 * CiuState 'pending' although the master's start had set it. One ID: each patch costs two events.
 */
export const leanMessagesPatch = 'child-lean-messages';
/** patched() ID: a window wait ends early when the master sends new rollout timing (its timer is cancelled). */
const timingFollowsCommitsPatch = 'windows-follow-commits';
/** patched() ID: the post-check reads the controller's own health view after the version check. */
const healthPostCheckPatch = 'post-check-health-view';
/** patched() ID: a grouped controller asks the master for a reboot permit before its reload. */
const redundancyPatch = 'redundancy-reboot-permit';

/**
 * patched() ID: children started before it inspected, read `show storage`, downloaded and checked the
 * copy in four activities (a workflow task and three events each); since, the look before the
 * download (inspect and `show storage`, one login each) is one activity, and the copy with its check one.
 */
export const fewerTasksPatch = 'child-fewer-tasks';

/**
 * patched() ID: children started before it confirmed the version and read the health view after the
 * reboot in two activities of their own (two logins, two workflow tasks); since, the reboot returns
 * both from the login that saw the controller back, and the activities run only when it could not.
 */
export const rebootConfirmsPatch = 'reboot-confirms-in-its-login';

/**
 * patched() ID: children started before it ignored an abortDownload that came before their download
 * began, and downloaded with the slot from their start although the campaign was paused.
 */
const abortBeforeDownloadPatch = 'abort-before-download';

/**
 * patched() ID: children started before it ran the look before the download (inspect and `show
 * storage`) as a scheduled activity; since, it is a local activity in the child's first workflow task.
 */
export const localLookPatch = 'look-as-local-activity';

/**
 * The patches a master vouches for with `behaviour: 1` in a child's input: each is in force without
 * a patched() call. Every patched() call writes a marker and an upsert of TemporalChangeVersion, 10 to
 * 14 events a child that replay needed only for children older than these patches. An input without
 * `behaviour` (a child of an older master, one started alone) asks patched() as before. Never take an
 * ID out: children recorded with behaviour 1 replay by this list.
 */
const behaviourOne: ReadonlySet<string> = new Set([
  preChecksPatch,
  fallbackPatch,
  windowsPatch,
  leanMessagesPatch,
  timingFollowsCommitsPatch,
  healthPostCheckPatch,
  redundancyPatch,
  fewerTasksPatch,
  rebootConfirmsPatch,
  abortBeforeDownloadPatch,
]);

/** The patches a master vouches for with `behaviour: 2`, besides behaviourOne's. Never take an ID out. */
const behaviourTwo: ReadonlySet<string> = new Set([localLookPatch]);

/** What the rolloutTiming signal may carry; anything else is ignored. */
const rolloutTimingSchema = controllerUpgradeInputSchema.pick({
  downloadWindow: true,
  rebootWindow: true,
  startAt: true,
});

/**
 * Upgrades one controller: inspect → (up-to-date | download in cycles of quick tries separated by
 * the retry interval, forever) → integrity check → reboot and confirm when autoboot. A purge (signal
 * or cancellation) ends it as 'purged' from wherever it is. Its status and the cycle's counting live
 * in ControllerProgress and QuickTryCycle.
 */
export async function controllerUpgrade(raw: ControllerUpgradeInput): Promise<ControllerUpgradeResult> {
  const validation = validate(controllerUpgradeInputSchema, raw);
  if (!validation.ok) throw refusal(validation.issues);
  const input = validation.value;
  const { controller, campaign, image } = input;
  const carried: ControllerCarried = input.carried ?? { attempts: 0, cycles: 0, run: 1 };
  const retryMs = parseDuration(input.retryInterval) as number;
  const backoffMs = parseDuration(input.quickTryBackoff ?? '5s') as number;
  const rebootTimeoutMs = parseDuration(input.rebootTimeout ?? '10m') as number;
  const ctx = { campaign, controller: controller.ip, model: controller.model };

  const progress = new ControllerProgress(input, carried);
  const { status } = progress;
  const cycle = new QuickTryCycle(input.quickTries, input.cyclesPerRun ?? 20, carried.cycles);
  let facts = carried.facts;
  let slotGranted = false;
  let slotToRelease = false;
  let purgeRequested = false;
  /** Sequence number of the last report sent: the master refuses one it heard before (a replay). */
  let reportSeq = carried.reports ?? 0;
  /** The cycle holding a download slot, which a pause with abortDownloads stops. */
  let slotScope: CancellationScope | undefined;
  let abortRequested = false;
  /** An abort came while the slot from the start (or its grant) waited for the look to finish: it is given back unused. */
  let abortBeforeDownload = false;
  /**
   * It waits in withSlot for a grant, and looks with localLookPatch in force: an abort that comes in
   * the same activation as the grant (the look's task held both back) then finds the slot unused.
   */
  let awaitingGrant = false;
  let rebootGranted = false;
  /** Start-at and windows in force: the input's, until the master sends a commit's new ones. */
  let timing: RolloutTiming = {
    downloadWindow: input.downloadWindow,
    rebootWindow: input.rebootWindow,
    startAt: input.startAt,
  };
  let timingRevision = 0;
  const work = new CancellationScope();

  /** Whether the change behind patch `id` is in force: vouched for by the master, or patched(). */
  const behaviour = input.behaviour ?? 0;
  const inForce = (id: string) =>
    (behaviour >= 1 && behaviourOne.has(id)) || (behaviour >= 2 && behaviourTwo.has(id)) || patched(id);
  const lean = inForce(leanMessagesPatch);
  const fewerTasks = inForce(fewerTasksPatch);
  const reportsWithoutWaiting = lean && input.master !== undefined;
  /** Search-attribute values already set (by the master's start, then by upserts); undefined: always upsert. */
  const attributesSet: AttributeChanges | undefined = lean
    ? input.master !== undefined && input.carried === undefined
      ? { state: 'pending', attempts: 0 }
      : {}
    : undefined;
  /** The slot the master handed out with the start, not used yet; the first download cycle uses it. */
  let slotFromStart = reportsWithoutWaiting && input.downloadSlotGranted === true;
  /** The place in the slot queue the master gave it with the start, not used yet: the first cycle waits for its grant. */
  let slotQueuedAtStart = reportsWithoutWaiting && input.downloadSlotQueued === true;
  /** This cycle's slot came by grant, so the master already shows its first try. */
  let grantShown = false;
  /**
   * Its last state goes to the master by signal: always, unless the master run that started it (its
   * parent, not whoever else started it with that input) hears its result; then only once that run
   * hands over (reportEndBySignal) before continuing as new.
   */
  let endBySignal =
    input.endByResult !== true || workflowInfo().parent?.workflowId !== input.master?.workflowId;
  setHandler(controllerStatusQuery, () => status);
  const forged = new ForgedMessages();
  /** A grant or purge that claims to come from the master must be sealed by it; a child without one takes the operator's. */
  const fromMaster = (seal: unknown, kind: string) =>
    !input.master || forged.accept(seal, kind, input.master.workflowId, ctx);
  setHandler(downloadSlotGrantSignal, (seal) => {
    if (!fromMaster(seal, 'downloadSlotGrant')) return;
    slotGranted = true;
  });
  setHandler(abortDownloadSignal, (seal) => {
    if (!fromMaster(seal, 'abortDownload')) return;
    if (!slotScope) {
      const unusedSlot = slotFromStart || ((slotQueuedAtStart || awaitingGrant) && slotGranted);
      if (unusedSlot && inForce(abortBeforeDownloadPatch)) abortBeforeDownload = true;
      return;
    }
    abortRequested = true;
    slotScope.cancel();
  });
  setHandler(rebootPermitGrantSignal, (seal) => {
    if (!fromMaster(seal, 'rebootPermitGrant')) return;
    rebootGranted = true;
  });
  setHandler(rolloutTimingSignal, (next, seal) => {
    if (!fromMaster(seal, 'rolloutTiming')) return;
    const validated = validate(rolloutTimingSchema, next);
    if (!validated.ok) {
      log.warn('rollout timing ignored', { ...ctx, issues: boundIssues(validated.issues) });
      return;
    }
    const { downloadWindow, rebootWindow, startAt } = validated.value;
    timing = { downloadWindow, rebootWindow, startAt };
    timingRevision++;
  });
  setHandler(reportEndBySignal, (seal) => {
    if (!fromMaster(seal, 'reportEndBySignal')) return;
    endBySignal = true;
  });
  setHandler(purgeSignal, (seal) => {
    if (!fromMaster(seal, 'purge')) return;
    purgeRequested = true;
    work.cancel();
  });

  /** Shows a change locally (query, search attributes, current details) without telling the master. */
  function showProgress(fields: Partial<ControllerStatus>): void {
    const changes = progress.set(fields, new Date());
    if (input.searchAttributes !== false) {
      const upserts = [];
      if (changes.state !== undefined && changes.state !== attributesSet?.state)
        upserts.push({ key: stateKey, value: changes.state });
      if (changes.attempts !== undefined && changes.attempts !== attributesSet?.attempts)
        upserts.push({ key: attemptsKey, value: changes.attempts });
      if (upserts.length > 0) upsertSearchAttributes(upserts);
      if (attributesSet) Object.assign(attributesSet, changes);
    }
    setCurrentDetails(progress.details());
  }

  /** A state change: shows it and tells the master (with a download slot given back, if one is due). */
  async function report(fields: Partial<ControllerStatus>, final = false): Promise<void> {
    showProgress(fields);
    if (!input.master) return;
    if (
      (slotFromStart || slotQueuedAtStart) &&
      (status.state === 'waiting-retry' || status.state === 'waiting-window')
    ) {
      // Waiting before its first download: the slot (or the place in the queue) from the start goes back.
      slotFromStart = false;
      slotQueuedAtStart = false;
      slotToRelease = true;
    }
    const message: ControllerReport = { ...status, final, releasesSlot: slotToRelease || undefined };
    slotToRelease = false;
    const sent = getExternalWorkflowHandle(input.master.workflowId)
      .signal(controllerReportSignal, message, sealFromHere('controllerUpdate', ++reportSeq))
      .catch((err: unknown) => {
        log.warn('could not report to the master', { ...ctx, error: describeFailure(err).message });
      });
    // The last report is awaited: a signal a closed workflow has not sent yet is dropped.
    if (final || !reportsWithoutWaiting) await sent;
  }

  async function logBothSides(level: 'error' | 'warning', message: string, fields: Record<string, unknown>) {
    if (level === 'error') log.error(message, { ...ctx, ...fields });
    else log.warn(message, { ...ctx, ...fields });
    try {
      await shortCommand.logOnController({ controller, level, message: `ciu ${campaign}: ${message}` });
    } catch (err) {
      // The controller may be the thing that is unreachable; the master side still has the line.
      log.warn('could not write to the controller log', { ...ctx, error: describeFailure(err).message });
    }
  }

  /**
   * Runs one quick-try cycle holding a download slot; the slot goes back with the next report. A
   * cycle the master aborts (a pause with abortDownloads) gives the slot back and waits for another.
   */
  async function withSlot<T>(fn: () => Promise<T>): Promise<T> {
    if (!input.master) return fn();
    for (;;) {
      grantShown = false;
      if (slotFromStart) slotFromStart = false;
      else if (slotQueuedAtStart) {
        // Its grant may have come while it looked at the controller.
        slotQueuedAtStart = false;
        awaitingGrant = inForce(localLookPatch);
        await condition(() => slotGranted);
        awaitingGrant = false;
        grantShown = true;
      } else {
        slotGranted = false;
        const asked = getExternalWorkflowHandle(input.master.workflowId).signal(
          downloadSlotRequestSignal,
          { ip: controller.ip },
          sealFromHere('downloadSlotRequest'),
        );
        if (reportsWithoutWaiting) {
          // The grant may come before the send's acknowledgement; a failed send ends the wait as the awaited one did.
          let refused: { error: unknown } | undefined;
          void asked.catch((error: unknown) => (refused = { error }));
          awaitingGrant = inForce(localLookPatch);
          await condition(() => slotGranted || refused !== undefined);
          awaitingGrant = false;
          if (!slotGranted && refused) throw refused.error;
          grantShown = true;
        } else {
          await asked;
          await condition(() => slotGranted);
        }
      }
      if (abortBeforeDownload) {
        abortBeforeDownload = false;
        slotToRelease = true;
        log.info('download aborted before it began: the campaign paused it', ctx);
        await report({
          state: 'pending',
          lastError: 'download aborted by the operator (pause); waits to resume',
        });
        continue;
      }
      const scope = new CancellationScope();
      slotScope = scope;
      try {
        return await scope.run(fn);
      } catch (err) {
        if (!abortRequested || purgeRequested || !isCancellation(err)) throw err;
        abortRequested = false;
        log.info('download aborted: the campaign paused it', { ...ctx, attempts: status.attempts });
      } finally {
        slotScope = undefined;
        slotToRelease = true;
      }
      await report({
        state: 'pending',
        lastError: 'download aborted by the operator (pause); waits to resume',
      });
    }
  }

  /**
   * Runs `tryOnce` up to quickTries times; after a failed cycle logs it on both sides, waits the retry
   * interval (a durable timer), and goes again — continuing as new every cyclesPerRun cycles.
   */
  async function retryForever<T>(
    what: string,
    during: (tries: () => Promise<T>) => Promise<T>,
    tryOnce: (n: number) => Promise<T>,
  ): Promise<T> {
    for (;;) {
      let lastFailure = '';
      const outcome = await during(async () => {
        for (let n = 1; ; n++) {
          try {
            return await tryOnce(n);
          } catch (err) {
            if (isCancellation(err) || err instanceof WorkerStopped) throw err;
            const failure = describeFailure(err);
            const next = cycle.afterFailure(n, isPermanent(err));
            if (next === 'give-up') throw ApplicationFailure.nonRetryable(failure.message, failure.type);
            lastFailure = failureText(failure);
            showProgress({ lastError: lastFailure });
            log.warn(`${what} try failed`, { ...ctx, try: n, attempts: status.attempts, error: lastFailure });
            if (next === 'cycle-over') throw new CycleFailed();
            await sleep(backoffMs, { summary: `quick retry ${n + 1}/${input.quickTries}` });
          }
        }
      }).catch((err: unknown) => {
        if (err instanceof CycleFailed) return err;
        throw err;
      });
      if (!(outcome instanceof CycleFailed)) return outcome;
      cycle.endCycle();
      await report({ state: 'waiting-retry', nextRetryAt: new Date(Date.now() + retryMs).toISOString() });
      await logBothSides(
        'error',
        `${what} failed ${input.quickTries} times (cycle ${cycle.cycles}); next try in ${input.retryInterval}: ${lastFailure}`,
        { attempts: status.attempts, cycle: cycle.cycles, error: lastFailure },
      );
      await sleep(retryMs, { summary: `retry window ${input.retryInterval}` });
      if (cycle.continueAsNew(workflowInfo().continueAsNewSuggested)) {
        await condition(allHandlersFinished);
        await continueAsNew<typeof controllerUpgrade>({
          ...input,
          ...timing,
          downloadSlotGranted: undefined,
          downloadSlotQueued: undefined,
          endByResult: endBySignal ? undefined : input.endByResult,
          carried: {
            attempts: status.attempts,
            cycles: cycle.cycles,
            lastError: status.lastError,
            facts,
            run: carried.run + 1,
            reports: reportSeq,
          },
        });
      }
    }
  }

  /**
   * Waits on a durable timer until `window` is open, shown as 'waiting-window' until it opens. A
   * one-off window that is already over fails the controller: nothing would ever happen.
   */
  async function waitForWindow(
    kind: 'download' | 'reboot' | 'start-at',
    current: () => MaintenanceWindow | undefined,
  ): Promise<void> {
    for (;;) {
      const window = current();
      const now = Date.now();
      const at = windowState(window, new Date(now));
      if (at.open) return;
      if (!at.opensAt || !window)
        throw ApplicationFailure.nonRetryable(
          `the ${kind} window (${window ? describeWindow(window) : 'none'}) is over; set a new one and write memory`,
          failureTypes.maintenanceWindowOver,
        );
      const opensAt = at.opensAt.toISOString();
      await report({ state: 'waiting-window', window: kind, windowOpensAt: opensAt });
      log.info('waiting for the maintenance window', { ...ctx, window: kind, opensAt });
      const summary = `${kind} window opens ${opensAt}`;
      if (inForce(timingFollowsCommitsPatch))
        await sleepUnlessTimingChanges(at.opensAt.getTime() - now, summary);
      else await sleep(at.opensAt.getTime() - now, { summary });
    }
  }

  /** A durable timer that a commit's new rollout timing cuts short: the caller then re-computes the window. */
  async function sleepUnlessTimingChanges(ms: number, summary: string): Promise<void> {
    const seen = timingRevision;
    await CancellationScope.cancellable(async () => {
      const timer = sleep(ms, { summary });
      const changed = condition(() => timingRevision !== seen);
      try {
        await Promise.race([timer, changed]);
      } finally {
        CancellationScope.current().cancel();
        await Promise.allSettled([timer, changed]);
      }
    });
    if (timingRevision !== seen) log.info('rollout timing changed; window re-computed', ctx);
  }

  /**
   * A grouped controller's turn to reload (src/domain/redundancy.ts): asks the master and waits,
   * shown as 'waiting-peer', until no peer reboots and its standbys went first — and, in a campaign
   * with a failure budget, while no halt holds reboots.
   */
  async function waitForRebootPermit(): Promise<void> {
    if (!input.master) return;
    rebootGranted = false;
    await report({ state: 'waiting-peer' });
    log.info('asking for a reboot permit', { ...ctx, group: controller.group });
    await getExternalWorkflowHandle(input.master.workflowId).signal(
      rebootPermitRequestSignal,
      { ip: controller.ip },
      sealFromHere('rebootPermitRequest'),
    );
    await condition(() => rebootGranted);
  }

  /** Before the reload: the reboot window, then (grouped controllers, budgeted campaigns) the permit; a window that closed meanwhile gives the permit back. */
  async function beforeReload(windows: boolean): Promise<void> {
    const asks =
      (controller.group !== undefined || input.rebootPermit === true) &&
      input.master !== undefined &&
      inForce(redundancyPatch);
    for (;;) {
      if (windows) await waitForWindow('reboot', () => timing.rebootWindow);
      if (!asks) return;
      await waitForRebootPermit();
      if (!windows || windowState(timing.rebootWindow, new Date()).open) return;
    }
  }

  /**
   * The pre-checks before any download; a failed one ends the controller 'pre-check-failed'. A
   * controller whose `show storage` ciu cannot read (refused or unparsable) is not held back: its
   * copy still reports a full flash itself.
   */
  async function preCheck(current: ControllerFacts, partition: 0 | 1, look?: ControllerLook): Promise<void> {
    const unreadable = (failure: { type?: string; message: string }) => {
      log.warn('free flash unreadable; not checked before the download', {
        ...ctx,
        error: failureText(failure),
      });
      return undefined;
    };
    const storage = look
      ? look.storageUnreadable
        ? unreadable(look.storageUnreadable)
        : look.storage
      : await retryForever(
          'pre-check',
          (tries) => tries(),
          async () => {
            try {
              return await shortCommand.inspectStorage(controller);
            } catch (err) {
              const failure = unreadableReply(err);
              if (!failure) throw err;
              return unreadable(failure);
            }
          },
        );
    const problems = preCheckProblems({
      inventoryModel: controller.model,
      reportedModel: current.model,
      bootPartition: current.bootPartition,
      partition,
      freeBytes: storage?.freeBytes ?? Number.POSITIVE_INFINITY,
      imageBytes: image.payloadLength,
    });
    if (problems.length > 0) throw new PreCheckFailed(preCheckFailure(problems));
    log.info('pre-checks passed', { ...ctx, partition, freeBytes: storage?.freeBytes });
  }

  /**
   * The post-check after the version check: the controller's own health view. One ciu cannot read
   * (refused, unparsable, no row of its own) is not held against it, like an unreadable `show storage`.
   */
  async function healthProblem(seen?: RebootResult): Promise<string | undefined> {
    if (seen?.healthUnreadable) {
      log.warn('health view unreadable; not judged', { ...ctx, error: failureText(seen.healthUnreadable) });
      return undefined;
    }
    try {
      const health = seen?.health ?? (await shortCommand.inspectHealth(controller));
      if (!health.found) log.warn('own row missing from the health view; not judged', ctx);
      else log.info('health view read', { ...ctx, status: health.status, configState: health.configState });
      return health.problem;
    } catch (err) {
      const failure = unreadableReply(err);
      if (!failure) throw err;
      log.warn('health view unreadable; not judged', { ...ctx, error: failureText(failure) });
      return undefined;
    }
  }

  /**
   * After a wrong-version boot: boots the partition the controller ran before (ciu never wrote it),
   * once — the reboot activity looks before it reloads, and nothing here loops.
   */
  async function fallBack(previous: ControllerFacts, cause: string): Promise<never> {
    const partition = previous.bootPartition;
    const back = { version: previous.runningVersion, build: previous.runningBuild };
    await report({ state: 'rebooting', lastError: `${cause}; falling back to partition ${partition}` });
    await logBothSides('warning', `${cause}; booting back into partition ${partition}`, { partition });
    await reboot(rebootTimeoutMs).rebootController({
      controller,
      partition,
      timeoutMs: rebootTimeoutMs,
      expected: back,
    });
    const now = await shortCommand.inspectController(controller);
    showProgress({ runningVersion: now.runningVersion, runningBuild: now.runningBuild });
    if (now.runningVersion !== back.version || now.runningBuild !== back.build)
      throw ApplicationFailure.nonRetryable(
        `${cause}; fallback to partition ${partition} failed: it runs ${now.runningVersion} build ${now.runningBuild}, expected ${back.version} build ${back.build}`,
        failureTypes.versionMismatchAfterReboot,
      );
    throw new RolledBack(
      `${cause}; rolled back to partition ${partition} (${back.version} build ${back.build})`,
    );
  }

  async function upgrade(): Promise<ControllerUpgradeResult> {
    const windowsAtStart =
      (input.startAt !== undefined ||
        input.downloadWindow !== undefined ||
        input.rebootWindow !== undefined) &&
      inForce(windowsPatch);
    // Timing a commit sent later turns the window checks on too (only new runs receive it).
    const windows = () => windowsAtStart || timingRevision > 0;
    const startAt = () =>
      timing.startAt === undefined ? undefined : { from: timing.startAt, until: '9999-12-31T00:00:00Z' };
    if (windows() && timing.startAt !== undefined && !facts) await waitForWindow('start-at', startAt);
    const preChecks = input.preChecks !== false;
    // A run that carries the facts (after continue-as-new) reads `show storage` on its own, as before.
    const looks = fewerTasks && !facts ? (inForce(localLookPatch) ? localLook : shortCommand) : undefined;
    const look =
      looks !== undefined
        ? await retryForever(
            'inspect',
            (tries) => tries(),
            async () => {
              showProgress({ state: 'pending' });
              return looks
                .lookBeforeDownload({
                  controller,
                  storage: preChecks,
                  target: { version: image.version, build: image.build },
                })
                .catch((err: unknown) => {
                  const failure = describeFailure(err);
                  throw failure.type === failureTypes.workerStopping
                    ? new WorkerStopped(failure.message)
                    : err;
                });
            },
          )
        : undefined;
    const current =
      look?.facts ??
      facts ??
      (await retryForever(
        'inspect',
        (tries) => tries(),
        async () => {
          showProgress({ state: 'pending' });
          return shortCommand.inspectController(controller);
        },
      ));
    facts = current;
    showProgress({ runningVersion: current.runningVersion, runningBuild: current.runningBuild });
    if (progress.runsTarget(current.runningVersion, current.runningBuild)) {
      log.info('controller already runs the target image', {
        ...ctx,
        version: image.version,
        build: image.build,
      });
      return finish('up-to-date');
    }
    const partition = targetPartition(input.partition, current);
    if (preChecks && inForce(preChecksPatch)) await preCheck(current, partition, look);

    const downloadCycle = async <T>(tries: () => Promise<T>): Promise<T> => {
      if (windows()) await waitForWindow('download', () => timing.downloadWindow);
      return withSlot(tries);
    };
    await retryForever('download', downloadCycle, async (n) => {
      const downloading = { state: 'downloading' as const, attempt: n, attempts: status.attempts + 1 };
      // The master shows a cycle's first try when it grants the slot; only later tries are news to it.
      if (n === 1 && grantShown) showProgress(downloading);
      else await report(downloading);
      const download = {
        controller,
        source: input.source,
        partition,
        campaign,
        attempt: status.attempts,
        expected: image,
      };
      if (fewerTasks) {
        const result = await transfer.downloadAndVerifyImage(download);
        showProgress({ bytes: result.bytes, totalBytes: image.payloadLength });
        return;
      }
      const result = await transfer.downloadImage(download);
      showProgress({ bytes: result.bytes, totalBytes: image.payloadLength });
      await transfer.verifyImageOnController({ controller, partition, expected: image });
    });
    log.info('image downloaded and verified on the controller', {
      ...ctx,
      partition,
      attempts: status.attempts,
    });

    if (!input.autoboot) {
      return finish('downloaded-reboot-required');
    }
    await beforeReload(windows());
    await report({ state: 'rebooting' });
    const confirmInReboot = inForce(rebootConfirmsPatch);
    const rebooted = await reboot(rebootTimeoutMs).rebootController({
      controller,
      partition,
      timeoutMs: rebootTimeoutMs,
      expected: { version: image.version, build: image.build },
      ...(confirmInReboot ? { readHealth: true } : {}),
    });
    const seen = confirmInReboot && rebooted ? rebooted : undefined;
    const after = seen ?? (await shortCommand.inspectController(controller));
    showProgress({ runningVersion: after.runningVersion, runningBuild: after.runningBuild });
    if (!progress.runsTarget(after.runningVersion, after.runningBuild)) {
      const message = `after reboot the controller runs ${after.runningVersion} build ${after.runningBuild}, expected ${image.version} build ${image.build}`;
      if (input.fallback === true && inForce(fallbackPatch))
        await fallBack(current, failureText({ type: failureTypes.versionMismatchAfterReboot, message }));
      throw ApplicationFailure.nonRetryable(message, failureTypes.versionMismatchAfterReboot);
    }
    if (inForce(healthPostCheckPatch)) {
      const problem = await healthProblem(seen);
      if (problem !== undefined) {
        const cause = { type: failureTypes.postCheckFailed, message: `post-check failed: ${problem}` };
        if (input.fallback === true) await fallBack(current, failureText(cause));
        throw ApplicationFailure.nonRetryable(cause.message, cause.type);
      }
    }
    log.info('upgraded and confirmed after reboot', { ...ctx, version: image.version, build: image.build });
    return finish('upgraded');
  }

  function finish(state: ControllerState): ControllerUpgradeResult {
    status.state = state;
    return progress.result(cycle.cycles);
  }

  let outcome: ControllerUpgradeResult;
  try {
    if (purgeRequested) throw new Purged();
    outcome = await work.run(upgrade);
  } catch (err) {
    if (isCancellation(err) || err instanceof Purged) {
      status.state = 'purged';
      log.info('purged', { ...ctx, attempts: status.attempts });
    } else if (err instanceof PreCheckFailed) {
      status.state = 'pre-check-failed';
      status.lastError = failureText(err.failure);
      await CancellationScope.nonCancellable(() =>
        logBothSides('error', `upgrade not started: ${status.lastError}`, { error: status.lastError }),
      );
    } else if (err instanceof RolledBack) {
      status.state = 'rolled-back';
      status.lastError = err.message;
      log.warn('rolled back', { ...ctx, error: err.message });
    } else if (err instanceof TemporalFailure) {
      // Permanent failures, and whatever the reboot or the check after it could not get past.
      // Anything else (continue-as-new, a bug) propagates: a bug fails the task, which retries after a fix.
      status.state = 'failed';
      status.lastError = failureText(describeFailure(err));
      await CancellationScope.nonCancellable(() =>
        logBothSides('error', `upgrade failed: ${status.lastError}`, { error: status.lastError }),
      );
    } else {
      throw err;
    }
    outcome = progress.result(cycle.cycles);
  }
  // After a cancellation the root scope is cancelled too: the last report and the wait must not be.
  await CancellationScope.nonCancellable(async () => {
    // A signal that arrives while this task completes fails the completion, so the handover is never missed.
    if (endBySignal) await report({ state: status.state }, true);
    else showProgress({ state: status.state });
    await condition(allHandlersFinished);
  });
  return outcome;
}
