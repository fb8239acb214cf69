import { createHash } from 'node:crypto';
import {
  ServiceError,
  isGrpcServiceError,
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { putConfig } from '../config-store/store';
import { maxConfigBytes, utf8Bytes } from '../domain/campaign-limits';
import { canonicalJson } from '../domain/canonical-json';
import type { ConfigByReference } from '../domain/config-ref';
import type { CampaignSummary } from '../domain/status';
import type { CampaignConfig } from '../domain/types';
import type { masterUpgrade } from '../../workflows';
import {
  commitConfigUpdate,
  masterTaskTimeout,
  taskQueue,
  type CommitResult,
} from '../../workflows/definitions';
import { answeredWithin } from './answer';
import { CliError, exitCodes } from './exit-codes';
import { unsuccessfulEnd } from './run-end';

/** Memo key on the master workflow: the hash of the config it was started with. */
export const configHashMemo = 'ciuConfigHash';

/** What "write memory" did. */
export interface CommitOutcome {
  campaign: string;
  configHash: string;
  /**
   * 'started' a new run, 'pushed' into the running one, or 'unchanged' (an earlier run already took
   * this exact config to a good end). A new run after an ended one names it in `previous`.
   */
  action: 'started' | 'pushed' | 'unchanged';
  runId: string;
  /** The commitConfig answer (absent for 'unchanged'). */
  result?: CommitResult;
  /** The ended run of this exact config: the one left alone ('unchanged') or the one run again ('started'). */
  previous?: { runId: string; ended: string };
}

/** How the last run of a campaign ended, as far as "write memory" of the same config cares. */
export interface EndedRun {
  /** Temporal's execution status name: COMPLETED, FAILED, TERMINATED, CANCELLED, TIMED_OUT. */
  status: string;
  /** The master's result, for a COMPLETED run. */
  summary?: Pick<CampaignSummary, 'outcome' | 'controllers'>;
}

/**
 * Whether an ended run of the same config is worth running again, and why in words. Committing a
 * config twice must not upgrade twice (a finished campaign is left alone), but a run that failed —
 * the operator fixed the image on its server, or a controller — is what "write memory" restarts.
 */
export function rerunVerdict(run: EndedRun): { rerun: boolean; ended: string } {
  if (run.status !== 'COMPLETED') return { rerun: true, ended: `ended ${run.status}` };
  if (run.summary?.outcome === 'verification-failed')
    return { rerun: true, ended: 'ended with its image verification failed' };
  const failed = run.summary?.controllers.filter((c) => c.state === 'failed').length ?? 0;
  if (failed > 0) return { rerun: true, ended: `ended with ${failed} failed controller(s)` };
  return { rerun: false, ended: 'ended with every target upgraded, up-to-date or purged' };
}

/** Temporal's own words when the server refused the request itself (a payload over its limits, say). */
function temporalRefusal(err: unknown, campaign: string): unknown {
  const grpc = err instanceof ServiceError ? err.cause : err;
  if (!isGrpcServiceError(grpc)) return err;
  // A refused operation of update-with-start carries the reason in the message, the summary in details.
  const said = grpc.message.endsWith(grpc.details) ? grpc.details : `${grpc.message} (${grpc.details})`;
  return new CliError(`Temporal refused to start or update campaign ${campaign}: ${said}`);
}

/**
 * When the commit failed because the campaign's run failed before answering it (a worker without the
 * config store the reference needs, say), the run's own reason, which the update's error lacks.
 */
async function runEndedFirst(
  err: unknown,
  operation: WithStartWorkflowOperation<typeof masterUpgrade>,
): Promise<CliError | undefined> {
  if (!(err instanceof WorkflowUpdateFailedError)) return undefined;
  const handle = await operation.workflowHandle().catch(() => undefined);
  const end = handle && (await unsuccessfulEnd(handle));
  if (end?.status !== 'FAILED') return undefined;
  return new CliError(
    `the campaign refused the config: ${err.cause?.message ?? err.message}; its run failed: ${end.reason}`,
    exitCodes.usage,
  );
}

/** SHA-256 of a validated config, independent of key order. */
export function configHash(config: CampaignConfig): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}

/**
 * What the workflow is given for `config`: the config itself, or — when it is over what a start
 * input may carry and `configStore` is set — a reference to it, written to the store first.
 */
export function configInput(
  config: CampaignConfig,
  configStore?: string,
): CampaignConfig | ConfigByReference {
  if (configStore === undefined || utf8Bytes(JSON.stringify(config)) <= maxConfigBytes) return config;
  return { configRef: putConfig(configStore, config) };
}

/**
 * Commits a validated config: starts the masterUpgrade workflow (ID = campaign) or pushes the config
 * into the running one, atomically, with update-with-start (conflict policy USE_EXISTING) — so
 * committing the same config twice never starts a second run, even when two operators race. A
 * campaign that already took this exact config to a good end is left alone; one whose run of it
 * failed (verification, failed controllers, terminated) is started again (see `rerunVerdict`).
 */
export async function commitCampaign(
  client: Client,
  campaign: string,
  config: CampaignConfig,
  /**
   * answerTimeoutMs: how long to wait for a worker to answer commitConfig. Default 30 s.
   * configStore: the store a config too large to travel inline goes to (CIU_CONFIG_STORE). Default none.
   */
  options: { answerTimeoutMs?: number; configStore?: string } = {},
): Promise<CommitOutcome> {
  const hash = configHash(config);
  let wasRunning = false;
  let previous: CommitOutcome['previous'];
  try {
    const description = await client.workflow.getHandle(campaign).describe();
    const status = description.status.name;
    wasRunning = status === 'RUNNING';
    if (!wasRunning && description.memo?.[configHashMemo] === hash) {
      const summary =
        status === 'COMPLETED'
          ? await client.workflow.getHandle<typeof masterUpgrade>(campaign, description.runId).result()
          : undefined;
      const verdict = rerunVerdict({ status, summary });
      previous = { runId: description.runId, ended: verdict.ended };
      if (!verdict.rerun)
        return { campaign, configHash: hash, action: 'unchanged', runId: description.runId, previous };
    }
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  const input = configInput(config, options.configStore);
  const startWorkflowOperation = new WithStartWorkflowOperation('masterUpgrade', {
    workflowId: campaign,
    taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowTaskTimeout: masterTaskTimeout,
    memo: { [configHashMemo]: hash },
    staticSummary: `ciu campaign ${campaign}: ${config.targets.join(', ')}`,
  });
  const update = client.workflow
    .executeUpdateWithStart(commitConfigUpdate, { args: [input], startWorkflowOperation })
    .catch(async (err: unknown) => {
      throw (await runEndedFirst(err, startWorkflowOperation)) ?? temporalRefusal(err, campaign);
    });
  const timeoutMs = options.answerTimeoutMs ?? 30_000;
  const result = await answeredWithin(update, timeoutMs);
  if (result === undefined) {
    throw new CliError(
      `campaign ${campaign} ${wasRunning ? 'is running' : 'was started'}, but nothing answered the commitConfig update within ${timeoutMs / 1000}s: is a worker polling task queue "${taskQueue}"? Start one (\`ciu worker\`), then run \`ciu write memory\` again`,
    );
  }
  const { runId } = await (await startWorkflowOperation.workflowHandle()).describe();
  return {
    campaign,
    configHash: hash,
    action: wasRunning ? 'pushed' : 'started',
    runId,
    result,
    ...(previous ? { previous } : {}),
  };
}
