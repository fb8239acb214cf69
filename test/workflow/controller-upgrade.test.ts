import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { failureTypes } from '../../src/domain/errors';
import {
  controllerStatusQuery,
  controllerUpgrade,
  purgeSignal,
  type ControllerUpgradeInput,
} from '../../workflows';
import { createTimeSkippingEnv } from '../fixtures/temporal';
import { registerSearchAttributes } from './register-search-attributes';
import {
  controller,
  downloadFailure,
  factsFor,
  fakeActivities,
  installQuietRuntime,
  quietLogger,
  targetImage,
  type CallRecord,
} from './fake-activities';

// controllerUpgrade alone under the time-skipping server: it runs without a master (no download
// slots, no reports), so the server's limits with child workflows do not matter here. The master is
// tested on the real dev server (test/integration/master-*.test.ts).
let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  installQuietRuntime();
  env = await createTimeSkippingEnv();
  await registerSearchAttributes(env);
  bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    logger: quietLogger(),
  });
});

afterAll(async () => {
  await env?.teardown();
});

const minutes = (n: number) => n * 60_000;

function input(overrides: Partial<ControllerUpgradeInput> = {}): ControllerUpgradeInput {
  return {
    campaign: 'campaign-test',
    controller: controller('10.1.4.17'),
    source: {
      imageFile: 'ArubaOS_72xx_6.4.0.0_81234',
      server: { host: '127.0.0.1', port: 2121 },
      protocol: 'ftp',
      credentialsRef: 'ftp-images',
    },
    image: targetImage,
    autoboot: false,
    retryInterval: '15m',
    quickTries: 3,
    quickTryBackoff: '5s',
    partition: 'non-boot',
    ...overrides,
  };
}

let counter = 0;
async function withWorker<T>(activities: object, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `ctl-${Date.now()}-${counter++}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities,
    // Heartbeats (and with them cancellations) reach the activity within a second, as the worker is configured.
    maxHeartbeatThrottleInterval: '1s',
  });
  return worker.runUntil(fn(taskQueue));
}

function downloads(calls: CallRecord[]): number[] {
  return calls.filter((c) => c.name === 'downloadImage').map((c) => c.at);
}

test('3 quick tries, then a 15-minute durable wait, then 3 more; success on the 7th try ends the loop', async () => {
  let tries = 0;
  const { activities, calls } = fakeActivities({
    downloadImage: async () => {
      tries++;
      if (tries <= 6) throw downloadFailure();
      return { bytes: 4096 };
    },
  });
  const result = await withWorker(activities, (taskQueue) =>
    env.client.workflow.execute(controllerUpgrade, {
      taskQueue,
      workflowId: `loop-${counter}`,
      args: [input()],
    }),
  );
  expect(result).toMatchObject({ state: 'downloaded-reboot-required', attempts: 7, cycles: 2 });
  const at = downloads(calls);
  expect(at).toHaveLength(7);
  // Quick tries: seconds apart. Between cycles: the 15-minute retry interval.
  for (const [a, b] of [
    [0, 1],
    [1, 2],
    [3, 4],
    [4, 5],
  ] as const)
    expect(at[b]! - at[a]!).toBeLessThan(minutes(1));
  expect(at[3]! - at[2]!).toBeGreaterThanOrEqual(minutes(15));
  expect(at[6]! - at[5]!).toBeGreaterThanOrEqual(minutes(15));
  expect(at[3]! - at[2]!).toBeLessThan(minutes(16));
  // Each failed cycle is logged on the controller with its cause.
  const errorLines = activities.logOnController.mock.calls
    .filter(([l]) => l.level === 'error')
    .map(([l]) => l.message);
  expect(errorLines).toHaveLength(2);
  expect(errorLines[0]).toMatch(/failed 3 times.*DownloadFailed: connection refused/);
  expect(activities.verifyImageOnController).toHaveBeenCalledTimes(1);
  expect(activities.rebootController).not.toHaveBeenCalled();
});

test('success on attempt 2 stops retrying', async () => {
  let tries = 0;
  const { activities } = fakeActivities({
    downloadImage: async () => {
      if (++tries === 1) throw downloadFailure();
      return { bytes: 4096 };
    },
  });
  const result = await withWorker(activities, (taskQueue) =>
    env.client.workflow.execute(controllerUpgrade, {
      taskQueue,
      workflowId: `second-${counter}`,
      args: [input()],
    }),
  );
  expect(result).toMatchObject({ state: 'downloaded-reboot-required', attempts: 2, cycles: 0 });
  expect(activities.downloadImage).toHaveBeenCalledTimes(2);
  // The non-boot partition: the controller booted from 0.
  expect(activities.downloadImage.mock.calls.map(([d]) => d.partition)).toEqual([1, 1]);
});

test('autoboot on: reboots once into the new partition, confirms the version, and says so in search attributes', async () => {
  const { activities } = fakeActivities();
  const workflowId = `autoboot-${Date.now()}`;
  const result = await withWorker(activities, (taskQueue) =>
    env.client.workflow.execute(controllerUpgrade, {
      taskQueue,
      workflowId,
      args: [input({ autoboot: true })],
    }),
  );
  expect(result).toMatchObject({ state: 'upgraded', runningVersion: '6.4.0.0', runningBuild: 81234 });
  expect(activities.rebootController).toHaveBeenCalledTimes(1);
  const described = await env.client.workflow.getHandle(workflowId).describe();
  expect(described.searchAttributes).toMatchObject({ CiuState: ['upgraded'], CiuAttempts: [1] });
  expect(activities.rebootController.mock.calls[0]![0].partition).toBe(1);
});

test('autoboot off: never reboots and ends as "reboot required"', async () => {
  const { activities } = fakeActivities();
  const result = await withWorker(activities, (taskQueue) =>
    env.client.workflow.execute(controllerUpgrade, {
      taskQueue,
      workflowId: `noboot-${counter}`,
      args: [input({ autoboot: false })],
    }),
  );
  expect(result.state).toBe('downloaded-reboot-required');
  expect(activities.rebootController).not.toHaveBeenCalled();
});

test('a controller already on the target version and build is up-to-date: no download, no reboot', async () => {
  const { activities } = fakeActivities({ inspectController: async () => factsFor('6.4.0.0', 81234) });
  const result = await withWorker(activities, (taskQueue) =>
    env.client.workflow.execute(controllerUpgrade, {
      taskQueue,
      workflowId: `uptodate-${counter}`,
      args: [input({ autoboot: true })],
    }),
  );
  expect(result.state).toBe('up-to-date');
  expect(activities.downloadImage).not.toHaveBeenCalled();
  expect(activities.rebootController).not.toHaveBeenCalled();
});

test('a permanent failure (flash full) ends as failed without looping', async () => {
  const { activities } = fakeActivities({
    downloadImage: async () => {
      throw ApplicationFailure.nonRetryable('not enough flash: need 4096 bytes', failureTypes.flashFull);
    },
  });
  const result = await withWorker(activities, (taskQueue) =>
    env.client.workflow.execute(controllerUpgrade, {
      taskQueue,
      workflowId: `flash-${counter}`,
      args: [input()],
    }),
  );
  expect(result).toMatchObject({ state: 'failed', attempts: 1 });
  expect(result.lastError).toMatch(/^FlashFull: not enough flash/);
  expect(activities.downloadImage).toHaveBeenCalledTimes(1);
  expect(
    activities.logOnController.mock.calls.some(([l]) => l.level === 'error' && /FlashFull/.test(l.message)),
  ).toBe(true);
});

test('a failure the activity marks non-retryable (InvalidInput) ends as failed after one try, not every cycle', async () => {
  const { activities } = fakeActivities({
    downloadImage: async () => {
      throw ApplicationFailure.nonRetryable(
        'source.credentialsRef is required for protocol ftps',
        failureTypes.invalidInput,
      );
    },
  });
  const result = await withWorker(activities, (taskQueue) =>
    env.client.workflow.execute(controllerUpgrade, {
      taskQueue,
      workflowId: `non-retryable-${counter}`,
      args: [input()],
    }),
  );
  expect(result).toMatchObject({ state: 'failed', attempts: 1, cycles: 0 });
  expect(result.lastError).toBe('InvalidInput: source.credentialsRef is required for protocol ftps');
  expect(activities.downloadImage).toHaveBeenCalledTimes(1);
  // Before the fix this looped every cycle forever; a minute of real time is ample for one try.
}, 60_000);

test('a controller that comes back on the wrong version after reboot is reported failed', async () => {
  const { activities } = fakeActivities({ inspectController: async () => factsFor() });
  const result = await withWorker(activities, (taskQueue) =>
    env.client.workflow.execute(controllerUpgrade, {
      taskQueue,
      workflowId: `mismatch-${counter}`,
      args: [input({ autoboot: true })],
    }),
  );
  expect(result.state).toBe('failed');
  expect(result.lastError).toMatch(
    /^VersionMismatchAfterReboot: after reboot the controller runs 6.3.1.0 build 70000, expected 6.4.0.0 build 81234/,
  );
});

test('a controller that does not come back from its reboot is reported failed with the cause', async () => {
  const { activities } = fakeActivities({
    rebootController: async () => {
      throw ApplicationFailure.nonRetryable(
        'no SSH answer 10 minutes after reload',
        failureTypes.rebootTimeout,
      );
    },
  });
  const result = await withWorker(activities, (taskQueue) =>
    env.client.workflow.execute(controllerUpgrade, {
      taskQueue,
      workflowId: `reboot-timeout-${counter}`,
      args: [input({ autoboot: true })],
    }),
  );
  expect(result.state).toBe('failed');
  expect(result.lastError).toBe('RebootTimeout: no SSH answer 10 minutes after reload');
  expect(activities.rebootController).toHaveBeenCalledTimes(1);
});

test('purge during the 15-minute wait ends the workflow as purged, cleanly', async () => {
  const { activities } = fakeActivities({
    downloadImage: async () => {
      throw downloadFailure();
    },
  });
  const result = await withWorker(activities, async (taskQueue) => {
    const handle = await env.client.workflow.start(controllerUpgrade, {
      taskQueue,
      workflowId: `purge-wait-${counter}`,
      args: [input({ quickTryBackoff: '100ms' })],
    });
    await waitFor(async () => (await handle.query(controllerStatusQuery)).state === 'waiting-retry');
    const status = await handle.query(controllerStatusQuery);
    expect(status.nextRetryAt).toBeDefined();
    expect(status.lastError).toMatch(/DownloadFailed/);
    await handle.signal(purgeSignal);
    return handle.result();
  });
  expect(result).toMatchObject({ state: 'purged', attempts: 3 });
  expect(activities.downloadImage).toHaveBeenCalledTimes(3);
});

test('purge during a download cancels the transfer (the activity sees the cancellation)', async () => {
  let sawCancellation = false;
  let started!: () => void;
  const downloading = new Promise<void>((resolve) => (started = resolve));
  const { activities } = fakeActivities({
    downloadImage: async () => {
      started();
      const ctx = Context.current();
      try {
        for (let bytes = 0; ; bytes += 512) {
          ctx.heartbeat({ bytes, totalBytes: 1 << 30 });
          await ctx.sleep(100);
        }
      } catch (err) {
        sawCancellation = ctx.cancellationSignal.aborted;
        throw err;
      }
    },
  });
  const result = await withWorker(activities, async (taskQueue) => {
    const handle = await env.client.workflow.start(controllerUpgrade, {
      taskQueue,
      workflowId: `purge-dl-${counter}`,
      args: [input()],
    });
    await downloading;
    await handle.signal(purgeSignal);
    return handle.result();
  });
  expect(result.state).toBe('purged');
  expect(sawCancellation).toBe(true);
  expect(activities.verifyImageOnController).not.toHaveBeenCalled();
});

test('cancelling the workflow (temporal workflow cancel) is a purge too', async () => {
  const { activities } = fakeActivities({
    downloadImage: async () => {
      throw downloadFailure();
    },
  });
  const result = await withWorker(activities, async (taskQueue) => {
    const handle = await env.client.workflow.start(controllerUpgrade, {
      taskQueue,
      workflowId: `cancel-${counter}`,
      args: [input({ quickTryBackoff: '100ms' })],
    });
    await waitFor(async () => (await handle.query(controllerStatusQuery)).state === 'waiting-retry');
    await handle.cancel();
    return handle.result();
  });
  expect(result.state).toBe('purged');
});

test('bad input is refused with InvalidInput naming the field', async () => {
  const { activities } = fakeActivities();
  const bad = { ...input(), source: { ...input().source, imageFile: 'image;reboot' } };
  const err = await withWorker(activities, (taskQueue) =>
    env.client.workflow
      .execute(controllerUpgrade, { taskQueue, workflowId: `bad-${counter}`, args: [bad] })
      .catch((e: unknown) => e),
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
  expect(cause.type).toBe('InvalidInput');
  expect(cause.message).toBe(
    'source.imageFile must be a file name: letters, digits and ._+- in each /-separated part, none starting with . or -, each at most 128 characters',
  );
  expect(activities.inspectController).not.toHaveBeenCalled();
});

async function waitFor(predicate: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
