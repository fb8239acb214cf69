import { ApplicationFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';

/** How a workflow's latest run ended when it neither runs nor completed, in its own words. */
export interface UnsuccessfulEnd {
  /** FAILED, TERMINATED, TIMED_OUT, CANCELLED. */
  status: string;
  /** The failure's message, decoded by the client's failure converter. */
  reason: string;
  /** The failure's type (failureTypes), when it has one. */
  type?: string;
}

/**
 * The latest run's end when it failed, was terminated, timed out or was cancelled; nothing while it
 * runs or after it completed. Workers encode failure texts (a secret in an error never rests in
 * clear), so the server and the `temporal` CLI show only "Encoded failure": the reason is read here,
 * through the client's own converter and codecs.
 */
export async function unsuccessfulEnd(handle: WorkflowHandle): Promise<UnsuccessfulEnd | undefined> {
  const status = (await handle.describe()).status.name;
  if (status === 'RUNNING' || status === 'COMPLETED') return undefined;
  const cause = await handle.result().then(
    () => undefined,
    (failed: unknown) => (failed instanceof WorkflowFailedError ? failed.cause : undefined),
  );
  if (cause === undefined) return undefined;
  const type = cause instanceof ApplicationFailure ? cause.type : undefined;
  return { status, reason: cause.message, ...(type ? { type } : {}) };
}
