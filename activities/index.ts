import type { CredentialStore } from '../src/credentials/store';
import type { TrustedImageKeys } from '../src/image';
import type { Logger } from '../src/logging';
import { combinedSteps } from './combined';
import { createConfigStoreActivities } from './config-store';
import { createControllerActivities } from './controller';
import type { UpgradeActivities } from './types';
import { createImageActivities } from './verify-image';

/** What the activities need from the worker process; injected once (samples: activities-dependency-injection). */
export interface ActivityDeps {
  /** Resolves credentials references to secrets, inside the worker only. */
  credentials: CredentialStore;
  logger: Logger;
  /** known_hosts file for SSH endpoints without a pinned host key. Default: env CIU_KNOWN_HOSTS. */
  knownHostsFile?: string;
  /** A download with no byte progress this long fails as DownloadStalled. Default 60 s (env CIU_DOWNLOAD_STALL_TIMEOUT). */
  downloadStallMs?: number;
  /** Longest pause between SSH banner probes while a controller reboots. Default 500 ms. */
  rebootPollMs?: number;
  /** Public keys of the image signers verifyImage trusts (env CIU_IMAGE_KEYS). Default none. */
  trustedImageKeys?: TrustedImageKeys;
  /** Directory of configs passed by reference (env CIU_CONFIG_STORE). Default none: such a campaign fails, saying so. */
  configStore?: string;
  /**
   * Aborted when the worker is asked to stop. Local activities end then (the worker waits for them,
   * unlike scheduled ones, which it cancels after its grace time). Default: never.
   */
  stopping?: AbortSignal;
}

/** Every activity the ciu workflows call, bound to the worker's dependencies. */
export function createActivities(deps: ActivityDeps): UpgradeActivities {
  // oneLogin is how the combined activities share a login, not an activity a workflow may schedule.
  const { oneLogin, ...controller } = createControllerActivities(deps);
  return {
    ...createImageActivities(deps),
    ...createConfigStoreActivities(deps),
    ...controller,
    ...combinedSteps({ ...controller, oneLogin }),
  };
}

export { combinedSteps } from './combined';
export type { UpgradeActivities } from './types';
