import {
  NativeConnection,
  Worker,
  type WorkerInterceptors,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { ciuDataConverter } from '../src/temporal/data-converter';
import type { KeyRing } from '../src/temporal/keys';
import { MessageSealCodec } from '../src/temporal/message-seal';
import { taskQueue } from '../workflows/definitions';
import { boundedFailureInterceptor } from './bounded-failures';
import { workflowBundleFor } from './bundle';

export { taskQueue };

/**
 * Workflow runs a worker keeps in memory (maxCachedWorkflows; CIU_WORKFLOW_CACHE_SIZE overrides it),
 * chosen rather than the SDK's default, which grows with the heap (thousands). A cached ciu run costs
 * about 1.5 MB (each run evaluates the bundle's modules, zod schemas included; a bare child 0.1 MB):
 * 1,000 cached held a 1,000-target bench worker at 1,883 MiB, 4.8× the bare one. 250 bound the
 * cache near 375 MB, so a worker stays within 2× a bare one. What it costs: most of a campaign's
 * children wait (for a slot, a retry timer), and one evicted wakes with a replay of its history —
 * tens of events for a child waiting for a slot; one workflow task's work, not a device action.
 */
export const workflowCacheSize = 250;

/** Options for one ciu worker. */
export interface CiuWorkerOptions extends ActivityDeps {
  connection: NativeConnection;
  /** Default 'default'. */
  namespace?: string;
  /** Default 'ciu'. */
  taskQueue?: string;
  /** A workflow bundle (tests bundle once per file); default: dist/workflow-bundle.js, else bundle now. */
  workflowBundle?: WorkflowBundleOption;
  /**
   * Activities running at once on this worker. Default 200: most of them are SSH sessions waiting on
   * a controller's download, so they are cheap; max-downloads is enforced by the master, not here.
   */
  maxConcurrentActivityTaskExecutions?: number;
  /** Workflow runs kept in memory between their tasks. Default workflowCacheSize. */
  maxCachedWorkflows?: number;
  /** Time running activities get to finish after SIGTERM/SIGINT before they are cancelled. Default 10 s. */
  shutdownGraceMs?: number;
  /** Time after SIGTERM/SIGINT by which the worker stops even if activities have not. Default 30 s. */
  shutdownForceMs?: number;
  /** E.g. ciu's download counters (src/metrics.ts downloadMetricsInterceptor). Default none. */
  interceptors?: WorkerInterceptors;
  /** Encrypts every payload with the current key (`CIU_PAYLOAD_KEYS`). Default: payloads in clear. */
  payloadKeys?: KeyRing;
  /** Seals and checks internal messages between workflows (`CIU_MESSAGE_KEYS`); every worker of a namespace needs the same. */
  messageKeys: KeyRing;
}

/** A worker for both ciu workflows and all activities. Call `installRuntime` first in a process entry. */
export async function createCiuWorker(options: CiuWorkerOptions): Promise<Worker> {
  const {
    connection,
    namespace,
    workflowBundle,
    maxConcurrentActivityTaskExecutions,
    maxCachedWorkflows,
    interceptors,
    shutdownGraceMs,
    shutdownForceMs,
    payloadKeys,
    messageKeys,
    ...deps
  } = options;
  return Worker.create({
    connection,
    namespace: namespace ?? 'default',
    taskQueue: options.taskQueue ?? taskQueue,
    workflowBundle: workflowBundle ?? (await workflowBundleFor(deps.logger)),
    dataConverter: ciuDataConverter({
      ...(payloadKeys ? { payloadKeys } : {}),
      messageCodec: new MessageSealCodec(messageKeys),
    }),
    activities: createActivities(deps),
    maxConcurrentActivityTaskExecutions: maxConcurrentActivityTaskExecutions ?? 200,
    maxCachedWorkflows: maxCachedWorkflows ?? workflowCacheSize,
    // downloadImage's heartbeat timeout is 45 s; unthrottled to 5 s so a purge reaches a running download fast.
    maxHeartbeatThrottleInterval: '5s',
    // Asked to stop, the worker gives running activities this long to finish, then cancels them:
    // a download sends Ctrl-C to its controller, a reboot wait stops polling (its retry resumes it).
    shutdownGraceTime: shutdownGraceMs ?? 10_000,
    // ...and exits within this long of the request even if an activity ignores its cancellation.
    shutdownForceTime: shutdownForceMs ?? 30_000,
    interceptors: {
      ...interceptors,
      // Outermost: it bounds what the other interceptors and the activity throw.
      activity: [boundedFailureInterceptor, ...(interceptors?.activity ?? [])],
    },
  });
}

export { NativeConnection };
