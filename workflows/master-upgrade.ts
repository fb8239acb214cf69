import {
  ApplicationFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  log,
  makeContinueAsNewFunc,
  patched,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { boundIssues } from '../src/domain/bounded';
import { canonicalJson } from '../src/domain/canonical-json';
import { campaignSizeIssues, validateCommittable } from '../src/domain/campaign-limits';
import { validate, validateCampaignConfig } from '../src/domain/config';
import { masterOptionsSchema } from '../src/domain/schemas';
import {
  isConfigByReference,
  validateConfigRef,
  type ConfigByReference,
  type ConfigRef,
} from '../src/domain/config-ref';
import { campaignDialectIssues } from '../src/domain/dialects';
import { validateStatusRequest, type StatusRequest } from '../src/domain/status-request';
import { purgeSelectorIssues, resolveTargets } from '../src/domain/targets';
import {
  nothingToRetry,
  retrySelection,
  validateCompletedRetry,
  type CompletedRetry,
  type ValidRetry,
} from '../src/domain/completed-retry';
import { failureText, failureTypes } from '../src/domain/errors';
import type { CampaignSummary } from '../src/domain/status';
import type { CampaignConfig } from '../src/domain/types';
import type { CampaignConfigInput } from '../src/domain/config';
import { configStore, headerCheck } from './activity-options';
import { CampaignState, type Dispatch, type MasterCarried } from './campaign-state';
import { controllerUpgrade, type ControllerUpgradeResult } from './controller-upgrade';
import {
  commitConfigUpdate,
  committedConfigQuery,
  controllerReportSignal,
  controllerWorkflowId,
  downloadSlotGrantSignal,
  downloadSlotRequestSignal,
  masterTaskTimeout,
  purgeSignal,
  purgeTargetsSignal,
  purgeTargetsUpdate,
  abortDownloadSignal,
  pauseCampaignUpdate,
  resumeCampaignUpdate,
  retryTargetsUpdate,
  rebootPermitGrantSignal,
  rebootPermitRequestSignal,
  reportEndBySignal,
  rolloutTimingSignal,
  upgradePlanQuery,
  upgradeStatusQuery,
  type CommitResult,
} from './definitions';
import { describeFailure, refusal } from './failures';
import { sealVerdict } from '../src/domain/seal';
import { carriedIsOurs, ForgedMessages, sealCarried, sealFromHere } from './message-auth';
import { campaignPlan, haltCanHoldReboots, rolloutArgs, rolloutTiming } from './rollout';
import {
  attemptsKey,
  campaignKey,
  campaignStateKey,
  controllerKey,
  modelKey,
  stateKey,
} from './search-attributes';
import {
  checkRequest,
  pauseRequestSchema,
  resumeRequestSchema,
  retryRequestSchema,
} from '../src/domain/campaign-control';
import type { CampaignStateWord } from '../src/domain/status';

export type { MasterCarried } from './campaign-state';

/** Options for masterUpgrade beyond the config. */
export interface MasterOptions {
  /** Upsert search attributes and set them on children. Default true; false on a server without the ciu attributes registered. */
  searchAttributes?: boolean;
  /** History length at which the master continues as new (or earlier, when the server suggests). Default 6,000. */
  historyLimit?: number;
  /** Children one run starts before it continues as new (Temporal allows 2,000 pending per workflow). Default 1,500. */
  childrenPerRun?: number;
  /** Purges, slot grants and timing changes sent at once; more wait for those to finish (Temporal allows 2,000 pending). Default 500. */
  signalsAtOnce?: number;
  /**
   * Targets up to which children start ahead of their download slot (twice max-downloads alive), so
   * one child's look overlaps another's download; a larger campaign starts each child with a free
   * slot, sparing its busy master a grant per controller. Default 1,000.
   */
  lookAheadUpTo?: number;
  /**
   * A retry after the campaign completed (src/domain/completed-retry.ts): this run starts from the
   * completed run's result and starts only the selected retryable controllers again. Absent: a new campaign.
   */
  retry?: CompletedRetry;
}

/**
 * options.retry, validated against this campaign and its config: a bad field, or selectors that would
 * start nothing, fail the run before anything is touched.
 */
function retryAfterCompletion(
  input: unknown,
  campaign: string,
  config: CampaignConfig,
): ValidRetry | undefined {
  if (input === undefined || input === null) return undefined;
  const validated = validateCompletedRetry(input, campaign);
  if (!validated.ok) throw refusal(validated.issues);
  const targeted = new Set(resolveTargets(config.inventory, config.targets).controllers.map((c) => c.ip));
  const selection = retrySelection(validated.value.controllers, validated.value.selectors, targeted);
  if (selection.retried.length === 0)
    throw ApplicationFailure.nonRetryable(nothingToRetry(selection, campaign), failureTypes.invalidInput);
  return validated.value;
}

/** A grouped controller's group (and role in it) for its child's Web UI summary; nothing for an ungrouped one. */
function groupSummary({ group, redundancy }: CampaignConfig['inventory'][number]): string {
  if (group === undefined) return '';
  return ` · group ${group}${redundancy === undefined ? '' : ` (${redundancy})`}`;
}

/** A reference's `configRef`, validated; a bad field fails with `refuse` (default: the run, naming it). */
function referenceIn(
  input: ConfigByReference,
  refuse: (issues: string) => Error = (issues) =>
    ApplicationFailure.nonRetryable(issues, failureTypes.invalidInput),
): ConfigRef {
  const validated = validateConfigRef(input);
  if (!validated.ok) throw refuse(boundIssues(validated.issues));
  return validated.value;
}

/** The config a reference names, read by a worker; a missing or damaged one fails with its reason. */
async function readReferenced(ref: ConfigRef): Promise<unknown> {
  try {
    return await configStore.loadCampaignConfig(ref);
  } catch (err) {
    const { type, message } = describeFailure(err);
    throw ApplicationFailure.nonRetryable(message, type ?? failureTypes.invalidInput);
  }
}

/** commitConfig's validator: a reference's fields, or the whole config and its size. */
function validateCommit(next: unknown): void {
  if (isConfigByReference(next)) return void referenceIn(next, (issues) => new Error(issues));
  const validated = validateCommittable(next);
  if (!validated.ok) throw new Error(boundIssues(validated.issues));
}

/** An upgradeStatus argument, validated: a bad one fails the query naming the field. */
function statusRequest(input: unknown): StatusRequest {
  const validated = validateStatusRequest(input);
  if (!validated.ok) throw new Error(boundIssues(validated.issues));
  return validated.value;
}

/** patched() ID: campaigns started before it completed green after a failed verification; replays keep that. */
const verificationFailsCampaign = 'verification-failure-fails-the-campaign';

/** patched() ID: campaigns started before it took their options (MasterOptions) unchecked. */
const optionsCheckedAtStart = 'master-options-checked';

/** patched() ID: campaigns started before it accepted image sources their controllers' dialect cannot fetch. */
const dialectRulesAtStart = 'dialect-rules-at-start';

/**
 * patched() ID: children started before it were heard by workflow ID alone; since, the master records
 * each child's first run ID and hears only that run, and each report only once.
 */
const childRunPatch = 'reports-bound-to-child-run';

/** patched() ID: campaigns started before it never upserted CiuCampaignState. */
const campaignStateAttribute = 'campaign-state-attribute';

/** Children started per workflow task: a task's commands (each with its input) travel in one gRPC message of at most 4 MB. */
const dispatchBatch = 200;

/**
 * patched() ID: campaigns started before it awaited every batch of child starts and signal sends
 * before reacting to the next message (a workflow task per round); now they are sent and the loop
 * goes on, a failed one handled where it fails.
 */
export const masterSendsWithoutWaitingPatch = 'master-sends-without-waiting';

/**
 * patched() ID: campaigns started before it started every child in one run and sent every purge and
 * timing change at once; since, a run starts at most `childrenPerRun` children and then continues as
 * new, and at most `signalsAtOnce` of those signals are pending, the rest sent as they finish.
 */
export const masterRunBoundsPatch = 'master-bounded-per-run';

/**
 * patched() ID: campaigns started before it started every child at once; since, at most twice
 * max-downloads children are alive before their download (CampaignState.startRoom).
 */
const startAsSlotsFreePatch = 'children-start-as-slots-free';

/**
 * patched() ID: campaigns started before it started a child without a free slot to ask for one after
 * its look; since, the child is queued with its start and waits for the grant (CampaignState.queueWithStart).
 */
const queueWithStartPatch = 'children-queued-for-a-slot-at-start';

/**
 * patched() ID: campaigns started before it let each child ask patched() for every change it runs
 * (a marker and a search-attribute upsert each); since, the child's input vouches for them (`behaviour: 1`).
 */
const childBehaviourPatch = 'children-told-their-behaviour';

/**
 * patched() ID: campaigns started before it vouched for behaviour 1 only; since, `behaviour: 2`
 * (the child's look before its download is a local activity, workflows/controller-upgrade.ts).
 */
const childBehaviourTwoPatch = 'children-told-behaviour-two';

/**
 * patched() ID: campaigns started before it heard each child's end from its last report, a signal the
 * child awaited (a workflow task and five events a child, one here); since, a child this run started
 * ends with its result, and the run tells those still running to report their end by signal before it
 * continues as new.
 */
const childrenEndByResultPatch = 'children-end-by-result';

/**
 * patched() ID: campaigns started before it started a batch's children all in one workflow task;
 * since, the children starting with a download slot go first and the others once those started.
 * Temporal starts a parent's children in no set order: with 20 started at once, the 10 holding a
 * slot came up to 1.2 s after the queued ones, delaying every download behind them.
 */
const slotHoldersFirstPatch = 'children-with-a-slot-start-first';

/**
 * patched() ID: campaigns started before it started children ahead of their download slot whatever
 * their size; since, one larger than `lookAheadUpTo` starts each child only with a free slot. There
 * the master's commands are what a slot waits for (README, Performance): a start and a grant per
 * controller became one start.
 */
const largeCampaignsStartWithSlotPatch = 'large-campaigns-start-children-with-their-slot';

/**
 * One campaign: verify every image the targets need (headers only), then one controllerUpgrade child
 * per target, with max-downloads enforced here. Accepts purgeTargets and commitConfig at any time;
 * ends when every target is final. The state and its transitions live in CampaignState.
 */
export async function masterUpgrade(
  input: CampaignConfig | ConfigByReference,
  carried?: MasterCarried,
  options: MasterOptions = {},
  carriedSeal?: Uint8Array,
): Promise<CampaignSummary> {
  if (!carried && patched(optionsCheckedAtStart)) {
    const checked = validate(masterOptionsSchema, options, 'options');
    if (!checked.ok) throw refusal(checked.issues);
  }
  if (carried && !carriedIsOurs(carriedSeal))
    throw ApplicationFailure.nonRetryable(
      'carried state refused: it was not written by the run this one continues (start a campaign without it)',
      failureTypes.invalidInput,
    );
  // A config passed by reference is read from the workers' store first; an inline one runs as before.
  const startRef = isConfigByReference(input) ? referenceIn(input) : undefined;
  /** commitConfig's handler, once the config and state are there. */
  const commits: {
    handle?: (next: CampaignConfigInput | ConfigByReference) => Promise<CommitResult> | CommitResult;
  } = {};
  // The commit that comes with the start (`ciu write memory`) needs a handler in this first
  // activation, before the reference is read; it waits for the real one.
  if (startRef)
    setHandler(
      commitConfigUpdate,
      async (next) => {
        await condition(() => commits.handle !== undefined);
        return (commits.handle as NonNullable<typeof commits.handle>)(next);
      },
      { validator: validateCommit },
    );
  const validation = validateCampaignConfig(startRef ? await readReferenced(startRef) : input);
  if (!validation.ok) throw refusal(validation.issues);
  const startConfig = validation.config;
  // Refused before anything starts: an oversized campaign would wedge at its first continue-as-new.
  const sizeIssues = carried ? [] : campaignSizeIssues(validation.config, startRef !== undefined);
  if (sizeIssues.length > 0) throw refusal(sizeIssues, failureTypes.campaignTooLarge);
  if (!carried && patched(dialectRulesAtStart)) {
    const dialectIssues = campaignDialectIssues(validation.config);
    if (dialectIssues.length > 0) throw refusal(dialectIssues);
  }
  const campaign = workflowInfo().workflowId;
  const retry = carried ? undefined : retryAfterCompletion(options.retry, campaign, validation.config);
  const useSearchAttributes = options.searchAttributes !== false;
  const historyLimit = options.historyLimit ?? 6_000;
  const childrenPerRun = options.childrenPerRun ?? 1_500;
  const signalsAtOnce = options.signalsAtOnce ?? 500;
  const lookAheadUpTo = options.lookAheadUpTo ?? 1_000;
  /** The run bounds (masterRunBoundsPatch) apply; set before the main loop, the only place signals are sent. */
  let bounded = false;
  /** Children without a free slot are queued for one with their start (queueWithStartPatch); set before the main loop. */
  let queueWithStart = false;
  /** The behaviour children are told is in force (childBehaviourPatch, childBehaviourTwoPatch); 0: none. */
  let childBehaviour = 0;
  /** Children this run started hear their end from their result (childrenEndByResultPatch); set before the main loop. */
  let endByResult = false;
  /** A batch's children with a download slot start before the rest (slotHoldersFirstPatch); set before the main loop. */
  let slotHoldersFirst = false;
  /** Children this run started whose result has not come yet: their ends, by controller. */
  const resultsDue = new Map<string, Promise<void>>();
  const state = new CampaignState(validation.config, campaign, log, carried);
  const forged = new ForgedMessages(carried?.forgedMessages);

  if (!carried && useSearchAttributes) upsertSearchAttributes([{ key: campaignKey, value: campaign }]);

  setHandler(upgradeStatusQuery, (request) => {
    const status = state.status(statusRequest(request));
    return forged.list.length > 0 ? { ...status, forgedMessages: forged.list } : status;
  });
  // The plan covers every controller, not one status page.
  setHandler(committedConfigQuery, () => state.committed);
  setHandler(upgradePlanQuery, () =>
    campaignPlan(state.committed, state.status({ limit: Number.MAX_SAFE_INTEGER }), new Date()),
  );
  setHandler(purgeTargetsSignal, (selectors) => void state.purgeSelectors(selectors));
  setHandler(purgeTargetsUpdate, (selectors) => state.purgeSelectors(selectors), {
    validator: (selectors) => {
      const issues = purgeSelectorIssues(selectors);
      if (issues.length > 0) throw new Error(`purge refused: ${boundIssues(issues)}`);
    },
  });
  /** Children whose start has not returned their run ID yet: their first messages wait for it. */
  const awaitingRunId = new Set<string>();
  /** Acts on a sealed message from `ip`'s child once it is known to come from the run this campaign started. */
  function fromOurChild(kind: string, ip: string, seal: unknown, act: () => void): void | Promise<void> {
    const hear = () => {
      const { run, seq } = sealVerdict(seal);
      const problem =
        kind === 'controllerUpdate' ? state.reportProblem(ip, run, seq) : state.childRunProblem(ip, run);
      if (problem) forged.record(kind, controllerWorkflowId(campaign, ip), problem, { campaign });
      else act();
    };
    if (!awaitingRunId.has(ip)) return hear();
    return condition(() => !awaitingRunId.has(ip)).then(hear);
  }
  setHandler(controllerReportSignal, (report, seal) => {
    if (!forged.accept(seal, 'controllerUpdate', controllerWorkflowId(campaign, report?.ip), { campaign }))
      return;
    return fromOurChild('controllerUpdate', report.ip, seal, () =>
      state.applyReport(report, report.final === true),
    );
  });
  setHandler(downloadSlotRequestSignal, (request, seal) => {
    if (
      !forged.accept(seal, 'downloadSlotRequest', controllerWorkflowId(campaign, request?.ip), { campaign })
    )
      return;
    return fromOurChild('downloadSlotRequest', request.ip, seal, () => state.requestSlot(request.ip));
  });
  setHandler(
    pauseCampaignUpdate,
    (request) => state.pause(checkRequest(pauseRequestSchema, request, 'pauseCampaign'), Date.now()),
    { validator: (request) => void checkRequest(pauseRequestSchema, request, 'pauseCampaign') },
  );
  setHandler(
    resumeCampaignUpdate,
    (request) => state.resume(checkRequest(resumeRequestSchema, request, 'resumeCampaign')),
    { validator: (request) => void checkRequest(resumeRequestSchema, request, 'resumeCampaign') },
  );
  setHandler(
    retryTargetsUpdate,
    (request) => state.retry(checkRequest(retryRequestSchema, request, 'retryTargets')),
    { validator: (request) => void checkRequest(retryRequestSchema, request, 'retryTargets') },
  );
  setHandler(rebootPermitRequestSignal, (request, seal) => {
    if (
      !forged.accept(seal, 'rebootPermitRequest', controllerWorkflowId(campaign, request?.ip), { campaign })
    )
      return;
    return fromOurChild('rebootPermitRequest', request.ip, seal, () => state.requestReboot(request.ip));
  });
  /** Commits by reference read their config from the store first: later commits wait for them, in order. */
  let commitsQueued: Promise<void> | undefined;
  async function commitByReference(next: ConfigByReference): Promise<CommitResult> {
    const ref = referenceIn(next);
    // `ciu write memory` starts a campaign and commits the same reference at once: read it once.
    const config = ref.sha256 === startRef?.sha256 ? startConfig : await readReferenced(ref);
    const validated = validateCommittable(config, true);
    if (!validated.ok) throw refusal(validated.issues);
    return state.commit(validated.config);
  }
  const handleCommit = (next: CampaignConfigInput | ConfigByReference) => {
    if (!isConfigByReference(next) && commitsQueued === undefined) return state.commit(next);
    const committed = (commitsQueued ?? Promise.resolve()).then(() =>
      isConfigByReference(next) ? commitByReference(next) : state.commit(next),
    );
    const settled = committed.then(
      () => undefined,
      () => undefined,
    );
    commitsQueued = settled;
    void settled.then(() => {
      if (commitsQueued === settled) commitsQueued = undefined;
    });
    return committed;
  };
  commits.handle = handleCommit;
  setHandler(commitConfigUpdate, handleCommit, { validator: validateCommit });

  async function verifyNeeded(): Promise<void> {
    const images = state.imagesToVerify();
    if (images.length === 0) return;
    state.phase = 'verifying';
    setCurrentDetails(`**Verifying** ${images.length} image(s)`);
    await Promise.all(
      images.map(async ({ key, entry, models, allowUnsigned }) => {
        try {
          const image = await headerCheck.verifyImage({
            source: {
              imageFile: entry.imageFile,
              server: entry.server,
              protocol: entry.protocol,
              credentialsRef: entry.credentialsRef,
            },
            models,
            expectedVersion: entry.expectedVersion,
            expectedBuild: entry.expectedBuild,
            ...(allowUnsigned ? { allowUnsigned } : {}),
          });
          state.recordCheck(key, { ok: true, image });
          log.info('image verified', {
            campaign,
            imageFile: entry.imageFile,
            models,
            version: image.version,
            build: image.build,
          });
        } catch (err) {
          const failure = describeFailure(err);
          state.recordCheck(key, { ok: false, error: failure.message, errorType: failure.type });
          log.error('image verification failed', {
            campaign,
            imageFile: entry.imageFile,
            models,
            error: failureText(failure),
          });
        }
      }),
    );
  }

  async function start(
    { controller, entry, image, generation }: Dispatch,
    slot?: 'granted' | 'queued',
  ): Promise<void> {
    const config = state.committed;
    const bindRun = patched(childRunPatch);
    if (bindRun) awaitingRunId.add(controller.ip);
    // A retried controller keeps counting its attempts; a first start has none (its input is as it always was).
    const controllerAttempts = state.target(controller.ip)?.status.attempts ?? 0;
    const handle = await startChild(controllerUpgrade, {
      workflowId: controllerWorkflowId(campaign, controller.ip),
      // Children outlive a continue-as-new of the master; they report by signal, not by result.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `${controller.ip} ${controller.model} → ${image.version} build ${image.build}${groupSummary(controller)}`,
      typedSearchAttributes: useSearchAttributes
        ? [
            { key: campaignKey, value: campaign },
            { key: controllerKey, value: controller.ip },
            { key: modelKey, value: controller.model },
            { key: stateKey, value: 'pending' },
            { key: attemptsKey, value: controllerAttempts },
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
          rebootTimeout: config.profile.rebootTimeout,
          partition: config.profile.partition,
          master: { workflowId: campaign },
          searchAttributes: useSearchAttributes,
          ...(slot === 'granted' ? { downloadSlotGranted: true } : {}),
          ...(slot === 'queued' ? { downloadSlotQueued: true } : {}),
          ...(childBehaviour > 0 ? { behaviour: childBehaviour } : {}),
          ...(endByResult ? { endByResult: true } : {}),
          ...rolloutArgs(config.profile),
          ...haltCanHoldReboots(config.profile),
          ...(controllerAttempts > 0 ? { carried: { attempts: controllerAttempts, cycles: 0, run: 1 } } : {}),
        },
      ],
    }).finally(() => awaitingRunId.delete(controller.ip));
    if (bindRun) state.childStarted(controller.ip, generation, handle.firstExecutionRunId);
    // Within this run the child's own completion is a source for its final state (with endByResult, the only one).
    const ip = controller.ip;
    const ended = handle.result().then(
      ({ cycles: _cycles, ...result }: ControllerUpgradeResult) => {
        if (state.isCurrent(ip, generation)) state.applyReport({ ...result, final: true }, true);
      },
      (err: unknown) => state.childFailed(ip, generation, failureText(describeFailure(err))),
    );
    if (!endByResult) return;
    resultsDue.set(ip, ended);
    void ended.finally(() => {
      if (resultsDue.get(ip) === ended) resultsDue.delete(ip);
    });
  }

  /**
   * Before this run continues as new: every child it started that has not ended reports its end by
   * signal from now on. A child that ended before the message reached it sent its result to this run,
   * which waits for it. A message that reaches a child before its last workflow task completes fails
   * that completion, so the child always sees it.
   */
  async function handOverEnds(): Promise<void> {
    const due = [...resultsDue];
    // At most signalsAtOnce pending (children waiting for a reboot window can be thousands).
    for (let i = 0; i < due.length; i += signalsAtOnce)
      await Promise.all(
        due.slice(i, i + signalsAtOnce).map(async ([ip, ended]) => {
          try {
            await getExternalWorkflowHandle(controllerWorkflowId(campaign, ip)).signal(
              reportEndBySignal,
              sealFromHere('reportEndBySignal'),
            );
          } catch {
            await ended;
          }
        }),
      );
  }

  /** Starts not yet acknowledged, by controller; sends and starts not yet finished (awaited before the run ends). */
  const starting = new Map<string, Promise<void>>();
  const inFlight = new Set<Promise<unknown>>();

  function track<T>(work: Promise<T>): Promise<T> {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
    return work;
  }

  /** Tracks `work` when there is any. */
  function trackSome(work: Promise<unknown> | undefined): void {
    if (work) void track(work);
  }

  /** What a child starting now gets with its start: a free download slot, else a place in the slot queue (or neither). */
  function slotWithStart(ip: string): 'granted' | 'queued' | undefined {
    if (state.slotWithStart(ip)) return 'granted';
    return queueWithStart && state.queueWithStart(ip) ? 'queued' : undefined;
  }

  /**
   * Starts the children without waiting for them (a start that fails ends its controller as failed),
   * each with a free download slot while there is one, else with a place in the slot queue: no request
   * for its first cycle. With slotHoldersFirst the others' starts go out once every holder started.
   */
  function startWithoutWaiting(dispatches: Dispatch[]): Promise<void[]> {
    // Every slot is decided now, in this workflow task; only the start commands may come later.
    const batch = dispatches.map((dispatch) => ({ dispatch, slot: slotWithStart(dispatch.controller.ip) }));
    const begin = ({ dispatch, slot }: (typeof batch)[number], after?: Promise<unknown>) => {
      const ip = dispatch.controller.ip;
      const initiated = after ? after.then(() => start(dispatch, slot)) : start(dispatch, slot);
      const started = initiated.catch((err: unknown) =>
        state.childFailed(ip, dispatch.generation, failureText(describeFailure(err))),
      );
      starting.set(ip, started);
      void started.finally(() => {
        if (starting.get(ip) === started) starting.delete(ip);
      });
      return track(started);
    };
    if (!slotHoldersFirst) return Promise.all(batch.map((one) => begin(one)));
    const holders = batch.filter(({ slot }) => slot === 'granted').map((one) => begin(one));
    const holdersStarted = holders.length > 0 ? Promise.all(holders) : undefined;
    const others = batch.filter(({ slot }) => slot !== 'granted').map((one) => begin(one, holdersStarted));
    return Promise.all([...holders, ...others]);
  }

  /** Signals sent and not finished yet; with the run bounds, at most `signalsAtOnce` (Temporal refuses more than 2,000). */
  let signalsPending = 0;
  /** Purges, grants or timing changes left for a later task because `signalsAtOnce` were pending. */
  let signalsOwed = false;
  /** How many more signals may be sent now that are not bounded by max-downloads. */
  function signalBudget(): number {
    return bounded ? Math.max(0, signalsAtOnce - signalsPending) : Number.POSITIVE_INFINITY;
  }

  /**
   * The tell* functions send synchronously and return the sends to track, or nothing when there is
   * nothing to send: every promise a workflow makes costs the SDK a captured stack trace, and the
   * master goes through them every workflow task (and a replay again for each).
   */
  function sent(sends: Promise<void>[]): Promise<unknown> | undefined {
    return sends.length > 0 ? Promise.all(sends) : undefined;
  }

  function tellChildren(): Promise<unknown> | undefined {
    const sends: Promise<void>[] = [];
    const purges = state.takePendingPurges(signalBudget());
    const grantLimit = bounded ? Math.max(0, signalBudget() - purges.length) : undefined;
    const granted = state.grantSlots(grantLimit);
    signalsOwed ||= state.hasPendingPurges() || (grantLimit !== undefined && granted.length >= grantLimit);
    for (const ip of purges)
      sends.push(
        signalChild(ip, () =>
          getExternalWorkflowHandle(controllerWorkflowId(campaign, ip)).signal(
            purgeSignal,
            sealFromHere('purge'),
          ),
        ),
      );
    for (const ip of granted)
      sends.push(
        signalChild(ip, () =>
          getExternalWorkflowHandle(controllerWorkflowId(campaign, ip)).signal(
            downloadSlotGrantSignal,
            sealFromHere('downloadSlotGrant'),
          ),
        ),
      );
    return sent(sends);
  }

  /** Pause with abortDownloads: the children holding a slot stop their download and wait for a new one. */
  function tellAborts(): Promise<unknown> | undefined {
    return sent(
      state
        .takePendingAborts()
        .map((ip) =>
          signalChild(ip, () =>
            getExternalWorkflowHandle(controllerWorkflowId(campaign, ip)).signal(
              abortDownloadSignal,
              sealFromHere('abortDownload'),
            ),
          ),
        ),
    );
  }

  /** CiuCampaignState, upserted when it changes (runs started before the patch never set it). */
  let shownState: CampaignStateWord | undefined;
  const showStateAttribute = useSearchAttributes && patched(campaignStateAttribute);
  function showCampaignState(): void {
    const word = state.control.stateWord(state.phase === 'completed');
    if (!showStateAttribute || word === shownState) return;
    upsertSearchAttributes([{ key: campaignStateKey, value: word }]);
    shownState = word;
  }

  /** Reboot permits of redundancy groups, and a commit's new start-at/windows to every running child. */
  let timingSent = canonicalJson(rolloutTiming(state.committed.profile));
  let timingOwed: string[] = carried?.timingOwed ?? [];
  function tellRedundancyAndTiming(): Promise<unknown> | undefined {
    const sends: Promise<void>[] = [];
    for (const ip of state.grantReboots())
      sends.push(
        signalChild(ip, () =>
          getExternalWorkflowHandle(controllerWorkflowId(campaign, ip)).signal(
            rebootPermitGrantSignal,
            sealFromHere('rebootPermitGrant'),
          ),
        ),
      );
    const timing = rolloutTiming(state.committed.profile);
    let timingTo: string[] = [];
    if (canonicalJson(timing) !== timingSent) {
      timingSent = canonicalJson(timing);
      log.info('rollout timing changed; telling running children', { campaign, ...timing });
      if (bounded) timingOwed = state.runningChildren();
      else timingTo = state.runningChildren();
    }
    if (bounded) {
      timingTo = timingOwed.splice(0, signalBudget());
      signalsOwed ||= timingOwed.length > 0;
    }
    for (const ip of timingTo)
      sends.push(
        signalChild(ip, () =>
          getExternalWorkflowHandle(controllerWorkflowId(campaign, ip)).signal(
            rolloutTimingSignal,
            timing,
            sealFromHere('rolloutTiming'),
          ),
        ),
      );
    return sent(sends);
  }

  async function signalChild(ip: string, send: () => Promise<void>): Promise<void> {
    signalsPending++;
    try {
      // A child whose start is still in flight cannot be signalled yet (the signal could overtake the start).
      const pending = starting.get(ip);
      if (pending) await pending;
      await send();
    } catch (err) {
      // The child already ended (it reported before closing, or its result is on its way here); nothing to stop or grant.
      log.info('child not signalled', { campaign, controller: ip, error: describeFailure(err).message });
      if (!resultsDue.has(ip)) state.childGone(ip);
    } finally {
      signalsPending--;
    }
  }

  if (retry) {
    const retried = state.retryCompleted(retry.controllers, retry.selectors);
    log.info('retry after completion', {
      campaign,
      retried: retried.retried.length,
      first: retried.retried.slice(0, 10),
      skipped: retried.skipped.length,
    });
  } else if (!carried) {
    state.applyTargets();
    await verifyNeeded();
    const failed = state.verifications().filter((v) => !v.ok);
    if (failed.length > 0) {
      state.phase = 'verification-failed';
      const report = boundIssues(failed.map((v) => `${v.model} ${v.imageFile}: ${v.error}`));
      log.error('verification failed; nothing dispatched', { campaign, models: failed.map((v) => v.model) });
      if (patched(verificationFailsCampaign)) {
        // A campaign that will do nothing ends red, not green: the operator fixes it and commits again.
        state.failUnverified();
        setCurrentDetails(
          `**Failed: image verification** — nothing dispatched. ${report}. Fix the image or the upgrade-profile, then \`ciu write memory\`.`,
        );
        await condition(allHandlersFinished);
        const { verifications, counts } = state.summary('verification-failed');
        throw ApplicationFailure.nonRetryable(
          `image verification failed, nothing dispatched: ${report}`,
          failureTypes.imageVerificationFailed,
          { verifications, counts },
        );
      }
      setCurrentDetails(`**Verification failed**: ${failed.map((v) => `${v.model}: ${v.error}`).join('; ')}`);
      await condition(allHandlersFinished);
      return state.summary('verification-failed');
    }
  }
  state.phase = 'running';

  const withoutWaiting = patched(masterSendsWithoutWaitingPatch);
  bounded = patched(masterRunBoundsPatch);
  const startAsSlotsFree = patched(startAsSlotsFreePatch);
  queueWithStart = patched(queueWithStartPatch);
  childBehaviour = patched(childBehaviourPatch) ? (patched(childBehaviourTwoPatch) ? 2 : 1) : 0;
  endByResult = patched(childrenEndByResultPatch);
  slotHoldersFirst = patched(slotHoldersFirstPatch);
  const largeStartWithSlot = patched(largeCampaignsStartWithSlotPatch);
  let startedThisRun = 0;
  // Only a wave's soak time sets it: campaigns without one wait exactly as before, with no timer.
  let soakMs: number | undefined;
  // Signals owed wake the loop once enough pending ones finished: never a turn that can send nothing.
  const wake = () => state.dirty || (signalsOwed && signalsPending < signalsAtOnce);
  for (;;) {
    if (soakMs === undefined) await condition(wake);
    else await condition(wake, soakMs, { summary: 'soak time before the next wave' });
    state.dirty = false;
    signalsOwed = false;
    await verifyNeeded();
    state.phase = 'running';
    soakMs = state.advanceControl(Date.now());
    if (withoutWaiting) {
      const dispatches = state.takeDispatches(
        bounded ? Math.min(dispatchBatch, childrenPerRun - startedThisRun) : dispatchBatch,
        startAsSlotsFree ? state.startRoom(!largeStartWithSlot || state.size() <= lookAheadUpTo) : undefined,
      );
      startedThisRun += dispatches.length;
      const started = dispatches.length > 0 ? startWithoutWaiting(dispatches) : undefined;
      trackSome(tellChildren());
      trackSome(tellAborts());
      trackSome(tellRedundancyAndTiming());
      // A full batch may have more behind it: the next one goes in a later workflow task.
      if (dispatches.length === dispatchBatch) await started;
    } else {
      await Promise.all(state.takeDispatches(dispatchBatch).map((dispatch) => start(dispatch)));
      await tellChildren();
      await tellAborts();
      await tellRedundancyAndTiming();
    }
    showCampaignState();
    setCurrentDetails(
      [
        ...state.controlDetails(Date.now()),
        ...state.redundancyDetails(),
        Object.entries(state.counts())
          .map(([s, n]) => `${s}: ${n}`)
          .join(', '),
      ].join('\n\n'),
    );
    if (state.done() && !state.dirty) break;
    // Everything pending is in the carried state, so a busy master (always dirty) still hands over in time.
    if (
      workflowInfo().continueAsNewSuggested ||
      workflowInfo().historyLength > historyLimit ||
      (bounded && startedThisRun >= childrenPerRun)
    ) {
      await Promise.all(inFlight);
      await handOverEnds();
      await condition(allHandlersFinished);
      // The retry seeded this run; the next one continues from the carried state.
      const { retry: _seeded, ...nextOptions } = options;
      // Only command types are matched on replay, so runs that continued without the timeout replay as they were.
      await makeContinueAsNewFunc<typeof masterUpgrade>({ workflowTaskTimeout: masterTaskTimeout })(
        state.committed,
        {
          ...state.carried(),
          forgedMessages: forged.list,
          ...(timingOwed.length > 0 ? { timingOwed } : {}),
        },
        nextOptions,
        sealCarried(),
      );
    }
  }
  state.phase = 'completed';
  await Promise.all(inFlight);
  showCampaignState();
  await condition(allHandlersFinished);
  return state.summary('completed');
}
