import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  TemporalFailure,
} from '@temporalio/workflow';
import { boundIssues, boundText } from '../src/domain/bounded';
import { failureTypes, isPermanentFailureType } from '../src/domain/errors';

/** The ApplicationFailure (or other cause) an activity/child failure wraps. */
function innermost(err: unknown): unknown {
  let cause: unknown = err;
  while ((cause instanceof ActivityFailure || cause instanceof ChildWorkflowFailure) && cause.cause)
    cause = cause.cause;
  return cause;
}

/** The failure type and (bounded) message behind an activity/child failure (the ApplicationFailure it wraps). */
export function describeFailure(err: unknown): { type?: string; message: string } {
  const cause = innermost(err);
  if (cause instanceof ApplicationFailure)
    return { type: cause.type ?? undefined, message: boundText(cause.message) };
  if (cause instanceof TemporalFailure) return { type: cause.name, message: boundText(cause.message) };
  return { message: boundText(err instanceof Error ? err.message : String(err)) };
}

/**
 * Whether trying again cannot help: the failure table says its type is permanent, or the activity
 * marked it non-retryable (it knows things the table cannot, e.g. a value the driver refuses).
 */
export function isPermanent(err: unknown): boolean {
  const cause = innermost(err);
  if (!(cause instanceof ApplicationFailure)) return false;
  return cause.nonRetryable || isPermanentFailureType(cause.type ?? undefined);
}

/** The failure that ends a run refusing its input: the issues, bounded; InvalidInput unless `type` says otherwise. */
export function refusal(
  issues: readonly string[],
  type: string = failureTypes.invalidInput,
): ApplicationFailure {
  return ApplicationFailure.nonRetryable(boundIssues(issues), type);
}
