import { ActivityCancellationType, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { UpgradeActivities } from '../activities/types';
import { failureTypes, permanentFailureTypes } from '../src/domain/errors';

/** Retrying a permanent failure cannot help (src/domain/errors.ts decides which are). */
const nonRetryableErrorTypes = [...permanentFailureTypes];

/**
 * Short CLI commands (inspect, the look before a download, log): a few seconds each; retried briefly
 * because SSH hiccups are common.
 * They heartbeat every 2 s, so an attempt whose worker died is retried after 10 s, not 2 minutes.
 */
export const shortCommand = proxyActivities<
  Pick<
    UpgradeActivities,
    'inspectController' | 'inspectStorage' | 'lookBeforeDownload' | 'inspectHealth' | 'logOnController'
  >
>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { maximumAttempts: 3, initialInterval: '2s', nonRetryableErrorTypes },
});

/**
 * The look before a download as a local activity: it runs inside the child's workflow task on the
 * worker that holds the child, so the task that reads its result is the one that started it (a
 * scheduled activity costs the child a workflow task and three events more). It only reads the
 * controller, so running it again after a crash is harmless. Same timeout and retries as
 * shortCommand's. A worker asked to stop waits for its local activities rather than cancel them, so
 * the worker's own stopping signal ends the look (WorkerStopping), and the child fails its task.
 */
export const localLook = proxyLocalActivities<Pick<UpgradeActivities, 'lookBeforeDownload'>>({
  startToCloseTimeout: '2 minutes',
  retry: {
    maximumAttempts: 3,
    initialInterval: '2s',
    // A stopping worker's look is not tried again there: the child fails its task for the next worker.
    nonRetryableErrorTypes: [...nonRetryableErrorTypes, failureTypes.workerStopping],
  },
});

/**
 * Image download: one try per call (the workflow counts quick tries); hours for slow links. The
 * activity heartbeats every 2 s (throttled to at most 5 s), so 20 s without one means its worker is
 * gone; a transfer that is alive but makes no byte progress is the activity's own DownloadStalled.
 * Waits for the activity to acknowledge a purge so the controller's copy is really stopped.
 */
export const transfer = proxyActivities<
  Pick<UpgradeActivities, 'downloadImage' | 'verifyImageOnController' | 'downloadAndVerifyImage'>
>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '20 seconds',
  retry: { maximumAttempts: 1 },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

/**
 * Reboot: reload plus up to `rebootTimeoutMs` (the profile's reboot-timeout) until SSH answers again,
 * heartbeating ({ reloadedAt, waitedMs }) while it waits. A retry after a worker crash resumes the
 * wait from those details and never reloads again, so a short retry interval is safe; the heartbeat
 * timeout is short so that a crashed worker's attempt is noticed fast.
 */
export function reboot(rebootTimeoutMs: number) {
  return proxyActivities<Pick<UpgradeActivities, 'rebootController'>>({
    startToCloseTimeout: rebootTimeoutMs + 5 * 60_000,
    heartbeatTimeout: '30 seconds',
    retry: {
      maximumAttempts: 3,
      initialInterval: '2s',
      nonRetryableErrorTypes,
    },
  });
}

/**
 * Image-header check: a losing image server must not end the campaign, so transient failures retry
 * with backoff up to 5 minutes apart, without limit; a bad header or refused login is final. The read
 * has its own 60 s deadline; the activity heartbeats every 2 s, so 10 s without one means its worker
 * is gone and the next worker retries at once instead of after the start-to-close timeout.
 */
export const headerCheck = proxyActivities<Pick<UpgradeActivities, 'verifyImage'>>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes,
  },
});

/**
 * Reading a config passed by reference from the worker's store: a local file, seconds at most even
 * at 16 MB. Retried briefly for a worker that died; a missing or damaged object is permanent.
 */
export const configStore = proxyActivities<Pick<UpgradeActivities, 'loadCampaignConfig'>>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3, initialInterval: '1s', nonRetryableErrorTypes },
});
