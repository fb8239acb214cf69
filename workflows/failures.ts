import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  TemporalFailure,
} from '@temporalio/workflow';

/** The failure type and message behind an activity/child failure (the ApplicationFailure it wraps). */
export function describeFailure(err: unknown): { type?: string; message: string } {
  let cause: unknown = err;
  while ((cause instanceof ActivityFailure || cause instanceof ChildWorkflowFailure) && cause.cause)
    cause = cause.cause;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? undefined, message: cause.message };
  if (cause instanceof TemporalFailure) return { type: cause.name, message: cause.message };
  return { message: err instanceof Error ? err.message : String(err) };
}

/** "Type: message" for status and logs. */
export function failureText(failure: { type?: string; message: string }): string {
  return failure.type ? `${failure.type}: ${failure.message}` : failure.message;
}
