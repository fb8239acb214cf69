import { createHash } from 'node:crypto';
import {
  ServiceError,
  isGrpcServiceError,
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import { canonicalJson } from '../domain/canonical-json';
import type { CampaignConfig } from '../domain/types';
import { commitConfigUpdate, taskQueue, type CommitResult } from '../../workflows/definitions';
import { CliError } from './exit-codes';

/** Memo key on the master workflow: the hash of the config it was started with. */
export const configHashMemo = 'ciuConfigHash';

/** What "write memory" did. */
export interface CommitOutcome {
  campaign: string;
  configHash: string;
  /** 'started' a new run, 'pushed' into the running one, or 'unchanged' (an earlier run already finished this exact config). */
  action: 'started' | 'pushed' | 'unchanged';
  runId: string;
  /** The commitConfig answer (absent for 'unchanged'). */
  result?: CommitResult;
}

/** Temporal's own words when the server refused the request itself (a payload over its limits, say). */
function temporalRefusal(err: unknown, campaign: string): unknown {
  const grpc = err instanceof ServiceError ? err.cause : err;
  if (!isGrpcServiceError(grpc)) return err;
  // A refused operation of update-with-start carries the reason in the message, the summary in details.
  const said = grpc.message.endsWith(grpc.details) ? grpc.details : `${grpc.message} (${grpc.details})`;
  return new CliError(`Temporal refused to start or update campaign ${campaign}: ${said}`);
}

/** SHA-256 of a validated config, independent of key order. */
export function configHash(config: CampaignConfig): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}

/**
 * Commits a validated config: starts the masterUpgrade workflow (ID = campaign) or pushes the config
 * into the running one, atomically, with update-with-start (conflict policy USE_EXISTING) — so
 * committing the same config twice never starts a second run, even when two operators race. A
 * campaign that already finished with this exact config is left alone.
 */
export async function commitCampaign(
  client: Client,
  campaign: string,
  config: CampaignConfig,
  /** answerTimeoutMs: how long to wait for a worker to answer commitConfig. Default 30 s. */
  options: { answerTimeoutMs?: number } = {},
): Promise<CommitOutcome> {
  const hash = configHash(config);
  let wasRunning = false;
  try {
    const description = await client.workflow.getHandle(campaign).describe();
    wasRunning = description.status.name === 'RUNNING';
    if (!wasRunning && description.memo?.[configHashMemo] === hash)
      return { campaign, configHash: hash, action: 'unchanged', runId: description.runId };
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  const startWorkflowOperation = new WithStartWorkflowOperation('masterUpgrade', {
    workflowId: campaign,
    taskQueue,
    args: [config],
    workflowIdConflictPolicy: 'USE_EXISTING',
    memo: { [configHashMemo]: hash },
    staticSummary: `ciu campaign ${campaign}: ${config.targets.join(', ')}`,
  });
  const update = client.workflow
    .executeUpdateWithStart(commitConfigUpdate, { args: [config], startWorkflowOperation })
    .catch((err: unknown) => {
      throw temporalRefusal(err, campaign);
    });
  // Only a worker answers the update; without one the call would wait forever.
  const timeoutMs = options.answerTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const unanswered = new Promise<undefined>(
    (resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)),
  );
  const result = await Promise.race([update, unanswered]).finally(() => clearTimeout(timer));
  if (result === undefined) {
    update.catch(() => undefined);
    throw new CliError(
      `campaign ${campaign} ${wasRunning ? 'is running' : 'was started'}, but nothing answered the commitConfig update within ${timeoutMs / 1000}s: is a worker polling task queue "${taskQueue}"? Start one (\`ciu worker\`), then run \`ciu write memory\` again`,
    );
  }
  const { runId } = await (await startWorkflowOperation.workflowHandle()).describe();
  return { campaign, configHash: hash, action: wasRunning ? 'pushed' : 'started', runId, result };
}
