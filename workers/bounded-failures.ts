import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { boundText } from '../src/domain/bounded';

/**
 * The same failure with its message (and the copy of it at the top of its stack) bounded: a
 * 10,000-character controller or image-server reply never lands in history whole. Type,
 * non-retryable flag, retry delay and details stay as they are.
 */
export function boundedFailure(err: unknown): unknown {
  if (!(err instanceof Error) || err.message.length <= boundText(err.message).length) return err;
  const message = boundText(err.message);
  const stack = err.stack?.replace(err.message, message);
  if (err instanceof ApplicationFailure) {
    const bounded = ApplicationFailure.create({
      message,
      type: err.type ?? undefined,
      nonRetryable: err.nonRetryable ?? undefined,
      details: err.details as unknown[] | undefined,
      nextRetryDelay: err.nextRetryDelay ?? undefined,
      cause: err.cause instanceof Error ? (boundedFailure(err.cause) as Error) : undefined,
      category: err.category ?? undefined,
    });
    if (stack) bounded.stack = stack;
    return bounded;
  }
  // Cancellation and other SDK failures carry Temporal's own short texts; a plain Error is ours to cut.
  if (err instanceof TemporalFailure) return err;
  err.message = message;
  if (stack) err.stack = stack;
  return err;
}

/** Every activity's failure leaves the worker bounded (see boundedFailure). Installed by createCiuWorker. */
export const boundedFailureInterceptor: ActivityInterceptorsFactory = () => ({
  inbound: {
    async execute(input, next) {
      try {
        return await next(input);
      } catch (err) {
        throw boundedFailure(err);
      }
    },
  },
});
