import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import type { RetryRequest, RetryResult } from '../domain/campaign-control';
import {
  nothingToRetry,
  retrySelection,
  seededControllers,
  type RetrySelection,
} from '../domain/completed-retry';
import { resolveTargets } from '../domain/targets';
import type { masterUpgrade } from '../../workflows';
import {
  committedConfigQuery,
  masterTaskTimeout,
  retryTargetsUpdate,
  taskQueue,
} from '../../workflows/definitions';
import { answeredWithin } from './answer';
import { configHash, configHashMemo, configInput } from './commit';
import { CliError, UsageError } from './exit-codes';

/** What `ciu upgrade target retry` did: sent retryTargets to the running campaign, or started a completed one again. */
export type RetryOutcome =
  | { action: 'retried'; result: RetryResult }
  | { action: 'restarted'; runId: string; completedRun: string; result: RetrySelection };

function unanswered(campaign: string, what: string, timeoutMs: number): CliError {
  return new CliError(
    `campaign ${campaign}: no worker answered ${what} within ${timeoutMs / 1000} s; is a worker polling task queue "${taskQueue}"? Nothing is confirmed: check with \`ciu show upgrade status\``,
  );
}

/** retryTargets to the running campaign; undefined when it completed before the Update reached it. */
async function retryRunning(
  client: Client,
  campaign: string,
  request: RetryRequest,
  timeoutMs: number,
): Promise<RetryResult | undefined> {
  const update = client.workflow
    .getHandle(campaign)
    .executeUpdate(retryTargetsUpdate, { args: [request] })
    .catch((err: unknown) => {
      if (err instanceof WorkflowUpdateFailedError) throw new UsageError(err.cause?.message ?? err.message);
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    });
  const answered = await answeredWithin(
    update.then((result) => ({ result })),
    timeoutMs,
  );
  if (answered === undefined) throw unanswered(campaign, retryTargetsUpdate.name, timeoutMs);
  return answered.result;
}

/**
 * A completed campaign takes no Update: a new run of it (same workflow ID) starts from the completed
 * run's result and its last committed config (the committedConfig query), retrying only the selected
 * controllers. A selection that would start nothing is refused here, before any run starts.
 */
async function restartCompleted(
  client: Client,
  campaign: string,
  completedRun: { runId: string; taskQueue: string },
  request: RetryRequest,
  timeoutMs: number,
  configStore: string | undefined,
): Promise<RetryOutcome> {
  const completed = client.workflow.getHandle<typeof masterUpgrade>(campaign, completedRun.runId);
  const summary = await completed.result();
  if (summary.outcome !== 'completed')
    throw new CliError(
      `campaign ${campaign}'s last run (${completedRun.runId}) ended with its image verification failed and dispatched nothing: \`ciu write memory\` runs it again`,
    );
  const config = await answeredWithin(completed.query(committedConfigQuery), timeoutMs);
  if (config === undefined) throw unanswered(campaign, committedConfigQuery.name, timeoutMs);
  const controllers = seededControllers(summary);
  const targeted = new Set(resolveTargets(config.inventory, config.targets).controllers.map((c) => c.ip));
  const selection = retrySelection(controllers, request.selectors, targeted);
  if (selection.retried.length === 0) throw new UsageError(nothingToRetry(selection, campaign));
  const handle = await client.workflow.start('masterUpgrade', {
    workflowId: campaign,
    // Where the campaign ran: its workers.
    taskQueue: completedRun.taskQueue,
    workflowTaskTimeout: masterTaskTimeout,
    args: [
      // A config too large to start with inline goes by reference, as `write memory` sent it.
      configInput(config, configStore),
      undefined,
      {
        retry: {
          selectors: request.selectors,
          previous: { campaign, outcome: summary.outcome, controllers },
        },
      },
    ],
    // The memo `write memory` compares against: this run holds the config it ran.
    memo: { [configHashMemo]: configHash(config) },
    staticSummary: `ciu campaign ${campaign}: retry of ${selection.retried.slice(0, 5).join(', ')}${selection.retried.length > 5 ? ', …' : ''} after run ${completedRun.runId}`,
    workflowIdConflictPolicy: 'FAIL',
  });
  return {
    action: 'restarted',
    runId: handle.firstExecutionRunId,
    completedRun: completedRun.runId,
    result: selection,
  };
}

/**
 * `ciu upgrade target retry`: the retryTargets Update while the campaign runs; once it completed, a
 * new run of it seeded from the completed one. Either way the same campaign, counters and causes kept.
 * A run that ended otherwise (failed, terminated) is for `write memory` to start again.
 */
export async function retryCampaign(
  client: Client,
  campaign: string,
  request: RetryRequest,
  timeoutMs: number,
  /** Where a config too large to travel inline goes (CIU_CONFIG_STORE). Default none. */
  configStore?: string,
): Promise<RetryOutcome> {
  for (let round = 0; round < 2; round++) {
    const { status, runId, taskQueue: queue } = await client.workflow.getHandle(campaign).describe();
    if (status.name === 'RUNNING') {
      const result = await retryRunning(client, campaign, request, timeoutMs);
      if (result) return { action: 'retried', result };
      continue;
    }
    if (status.name !== 'COMPLETED')
      throw new CliError(
        `campaign ${campaign}'s last run (${runId}) ended ${status.name}: a retry needs a running or completed campaign; \`ciu write memory\` runs it again`,
      );
    try {
      return await restartCompleted(
        client,
        campaign,
        { runId, taskQueue: queue },
        request,
        timeoutMs,
        configStore,
      );
    } catch (err) {
      // Someone else started it again meanwhile: the retry goes to that run.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
  throw new CliError(`campaign ${campaign} changed while retrying; run the retry again`);
}
