import { ApplicationFailure } from '@temporalio/activity';
import { ConfigStoreError, readConfig } from '../src/config-store/store';
import type { ConfigRef } from '../src/domain/config-ref';
import { failureTypes } from '../src/domain/errors';
import type { ActivityDeps } from '.';

/** Reads configs passed by reference from the worker's config store (CIU_CONFIG_STORE). */
export function createConfigStoreActivities({
  configStore,
  logger,
}: Pick<ActivityDeps, 'configStore' | 'logger'>) {
  return {
    async loadCampaignConfig(ref: ConfigRef): Promise<unknown> {
      if (configStore === undefined)
        throw ApplicationFailure.nonRetryable(
          'configRef: this worker has no config store (set CIU_CONFIG_STORE to the directory `ciu` writes configs to)',
          failureTypes.invalidInput,
        );
      try {
        const config = readConfig(configStore, ref);
        logger.info({ sha256: ref.sha256, bytes: ref.bytes }, 'config read from the config store');
        return config;
      } catch (err) {
        // Missing, damaged or changed: reading again cannot help; the operator writes it again.
        if (err instanceof ConfigStoreError)
          throw ApplicationFailure.nonRetryable(err.message, failureTypes.invalidInput);
        throw err;
      }
    },
  };
}
