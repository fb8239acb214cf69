import { ApplicationFailure } from '@temporalio/activity';
import { cleanText } from '../src/domain/clean-text';
import { failureTypes } from '../src/domain/errors';
import { activityContext } from './context';
import type { Controller } from '../src/domain/types';
import type { ControllerLook, UpgradeActivities } from './types';

/** The single steps the combined activities are made of. */
export type SingleSteps = Pick<
  UpgradeActivities,
  'inspectController' | 'inspectStorage' | 'downloadImage' | 'verifyImageOnController'
> & {
  /** Runs the steps on one login to the controller (the worker's SSH steps); absent: each step as it does. */
  oneLogin?: <T>(controller: Controller, steps: () => Promise<T>) => Promise<T>;
};

/** The activities made of single steps. */
export type CombinedActivities = Pick<UpgradeActivities, 'lookBeforeDownload' | 'downloadAndVerifyImage'>;

/** Every activity but the combined ones: what a worker, a test or the benchmark implements itself. */
export type StepActivities = Omit<UpgradeActivities, keyof CombinedActivities>;

/** Replies that make `show storage` unreadable rather than failed: the pre-check then skips the flash check. */
const unreadableTypes: readonly string[] = [
  failureTypes.unexpectedControllerReply,
  failureTypes.commandRejected,
];

/** Heartbeat period while the copied image is checked (the transfer profile's heartbeat timeout is 20 s). */
const checkHeartbeatMs = 2000;

/**
 * The look before a download and the copy with its check, each one activity made of the single steps
 * (each activity a child runs costs it a workflow task and three events). Built over any steps, so the
 * workflow tests' fakes and the benchmark's instant steps combine the same way.
 */
export function combinedSteps(steps: SingleSteps): CombinedActivities {
  const together = <T>(controller: Controller, run: () => Promise<T>) =>
    steps.oneLogin ? steps.oneLogin(controller, run) : run();
  return {
    lookBeforeDownload: ({ controller, storage, target }) =>
      together(controller, async () => {
        const facts = await steps.inspectController(controller);
        const look: ControllerLook = { facts };
        if (!storage || (facts.runningVersion === target.version && facts.runningBuild === target.build))
          return look;
        try {
          look.storage = await steps.inspectStorage(controller);
        } catch (err) {
          if (!(err instanceof ApplicationFailure) || !unreadableTypes.includes(err.type ?? '')) throw err;
          look.storageUnreadable = { type: err.type ?? undefined, message: cleanText(err.message) };
        }
        return look;
      }),

    downloadAndVerifyImage: (input) =>
      together(input.controller, async () => {
        const result = await steps.downloadImage(input);
        // The check's heartbeats keep the copy's byte count, which `show upgrade status` shows.
        const context = activityContext();
        const progress = { bytes: result.bytes, totalBytes: input.expected.payloadLength };
        context?.heartbeat(progress);
        const keepAlive = context
          ? setInterval(() => context.heartbeat(progress), checkHeartbeatMs)
          : undefined;
        try {
          await steps.verifyImageOnController({
            controller: input.controller,
            partition: input.partition,
            expected: input.expected,
          });
        } finally {
          clearInterval(keepAlive);
        }
        return result;
      }),
  };
}
