import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { failureTypes } from '../../src/domain/errors';
import { weekdays } from '../../src/domain/windows';
import {
  controllerStatusQuery,
  controllerUpgrade,
  purgeSignal,
  type ControllerUpgradeInput,
} from '../../workflows';
import type { RebootResult } from '../../activities/types';
import { createTimeSkippingEnv } from '../fixtures/temporal';
import { workflowBundle } from '../fixtures/worker';
import { registerSearchAttributes } from './register-search-attributes';
import {
  controllerInput,
  downloadFailure,
  factsFor,
  fakeActivities,
  installQuietRuntime,
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
  bundle = await workflowBundle();
});

afterAll(async () => {
  await env?.teardown();
});

const minutes = (n: number) => n * 60_000;

const input = controllerInput;

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

// Rollout controls: pre-checks before any download, fallback to the previous partition after a
// wrong-version boot, maintenance windows and the campaign start time on durable timers.
const rolloutInput = (overrides: Partial<ControllerUpgradeInput> = {}) =>
  input({ autoboot: true, ...overrides });
const hour = 3_600_000;
const day = 24 * hour;

describe('pre-checks before any download', () => {
  test('a full flash is found before the transfer: Pre-check failed, FlashFull with both sizes, nothing downloaded', async () => {
    const { activities } = fakeActivities({
      inspectStorage: async () => ({ freeBytes: 1024, sizeBytes: 2 * 1024 ** 3 }),
    });
    const workflowId = `precheck-flash-${counter}`;
    const result = await withWorker(activities, (taskQueue) =>
      env.client.workflow.execute(controllerUpgrade, { taskQueue, workflowId, args: [rolloutInput()] }),
    );
    expect(result.state).toBe('pre-check-failed');
    expect(result.lastError).toMatch(
      /^FlashFull: pre-check failed: 1\.0 KiB free on flash, the image needs /,
    );
    expect(activities.downloadImage).not.toHaveBeenCalled();
    expect(activities.rebootController).not.toHaveBeenCalled();
    const described = await env.client.workflow.getHandle(workflowId).describe();
    expect(described.searchAttributes).toMatchObject({ CiuState: ['pre-check-failed'] });
    // Logged on the controller too, with the reason.
    expect(activities.logOnController.mock.calls.map(([l]) => l.message)).toEqual([
      expect.stringMatching(/upgrade not started: FlashFull: pre-check failed/),
    ]);
  });

  test('a controller that is another model than the inventory says, and a profile partition it booted from', async () => {
    const { activities } = fakeActivities({
      inspectController: async () => ({ ...factsFor(), model: 'A7005' }),
    });
    const result = await withWorker(activities, (taskQueue) =>
      env.client.workflow.execute(controllerUpgrade, {
        taskQueue,
        workflowId: `precheck-model-${counter}`,
        args: [rolloutInput({ partition: 0 })],
      }),
    );
    expect(result).toMatchObject({
      state: 'pre-check-failed',
      lastError:
        'PreCheckFailed: pre-check failed: the controller reports model A7005, the inventory says A7210; partition 0 is the one the controller booted from; it is never overwritten',
    });
    expect(activities.downloadImage).not.toHaveBeenCalled();
  });

  test('a controller whose show storage cannot be read is not held back: the copy still reports a full flash itself', async () => {
    const { activities } = fakeActivities({
      inspectStorage: async () => {
        throw ApplicationFailure.nonRetryable(
          'no file system mounted on /flash',
          failureTypes.unexpectedControllerReply,
        );
      },
    });
    const result = await withWorker(activities, (taskQueue) =>
      env.client.workflow.execute(controllerUpgrade, {
        taskQueue,
        workflowId: `precheck-unreadable-${counter}`,
        args: [rolloutInput()],
      }),
    );
    expect(result.state).toBe('upgraded');
    expect(activities.inspectStorage).toHaveBeenCalledTimes(1);
  });

  test('no-pre-checks skips show storage', async () => {
    const { activities } = fakeActivities();
    const result = await withWorker(activities, (taskQueue) =>
      env.client.workflow.execute(controllerUpgrade, {
        taskQueue,
        workflowId: `precheck-off-${counter}`,
        args: [rolloutInput({ preChecks: false })],
      }),
    );
    expect(result.state).toBe('upgraded');
    expect(activities.inspectStorage).not.toHaveBeenCalled();
  });
});

describe('fallback to the previous partition', () => {
  test('after a wrong-version boot the controller is booted back into partition 0 once: Rolled back, with the cause', async () => {
    let boots = 0;
    const { activities } = fakeActivities({
      // The new partition boots into something else than the verified image; partition 0 is the old one.
      inspectController: async () =>
        boots === 0 ? factsFor() : boots === 1 ? factsFor('6.4.0.0', 99999) : factsFor('6.3.1.0', 70000),
      rebootController: async () => {
        boots++;
      },
    });
    const result = await withWorker(activities, (taskQueue) =>
      env.client.workflow.execute(controllerUpgrade, {
        taskQueue,
        workflowId: `fallback-${counter}`,
        args: [rolloutInput({ fallback: true })],
      }),
    );
    expect(result).toMatchObject({ state: 'rolled-back', runningVersion: '6.3.1.0', runningBuild: 70000 });
    expect(result.lastError).toBe(
      'VersionMismatchAfterReboot: after reboot the controller runs 6.4.0.0 build 99999, expected 6.4.0.0 build 81234; rolled back to partition 0 (6.3.1.0 build 70000)',
    );
    // Two reboots, never a third: into the new partition, then back into the old one expecting the old image.
    expect(activities.rebootController.mock.calls.map(([r]) => [r.partition, r.expected])).toEqual([
      [1, { version: '6.4.0.0', build: 81234 }],
      [0, { version: '6.3.1.0', build: 70000 }],
    ]);
  });

  test('a fallback that does not bring the old image back ends Failed with both causes, no third reboot', async () => {
    const { activities } = fakeActivities({
      inspectController: async () =>
        activities.rebootController.mock.calls.length === 0 ? factsFor() : factsFor('6.4.0.0', 99999),
    });
    const result = await withWorker(activities, (taskQueue) =>
      env.client.workflow.execute(controllerUpgrade, {
        taskQueue,
        workflowId: `fallback-fails-${counter}`,
        args: [rolloutInput({ fallback: true })],
      }),
    );
    expect(result.state).toBe('failed');
    expect(result.lastError).toMatch(
      /^VersionMismatchAfterReboot: .*; fallback to partition 0 failed: it runs 6\.4\.0\.0 build 99999, expected 6\.3\.1\.0 build 70000$/,
    );
    expect(activities.rebootController).toHaveBeenCalledTimes(2);
  });

  test('without fallback a wrong-version boot stays Failed, one reboot', async () => {
    const { activities } = fakeActivities({ rebootController: async () => undefined });
    const result = await withWorker(activities, (taskQueue) =>
      env.client.workflow.execute(controllerUpgrade, {
        taskQueue,
        workflowId: `no-fallback-${counter}`,
        args: [rolloutInput()],
      }),
    );
    expect(result.state).toBe('failed');
    expect(result.lastError).toMatch(/^VersionMismatchAfterReboot: /);
    expect(activities.rebootController).toHaveBeenCalledTimes(1);
  });

  test('a reboot that never comes back is not followed by a fallback reboot', async () => {
    const { activities } = fakeActivities({
      rebootController: async () => {
        throw ApplicationFailure.nonRetryable('did not come back after reload', failureTypes.rebootTimeout);
      },
    });
    const result = await withWorker(activities, (taskQueue) =>
      env.client.workflow.execute(controllerUpgrade, {
        taskQueue,
        workflowId: `fallback-timeout-${counter}`,
        args: [rolloutInput({ fallback: true })],
      }),
    );
    expect(result.state).toBe('failed');
    expect(activities.rebootController).toHaveBeenCalledTimes(1);
  });
});

describe('maintenance windows', () => {
  test('a reboot window that opens at 02:00 three simulated days later: downloaded now, waiting visibly, rebooted at 02:00', async () => {
    const { activities, calls } = fakeActivities();
    // 02:00 in Kolkata (UTC+05:30, no DST) on the day three days from now there: 20:30 UTC the day before.
    const start = await env.currentTimeMs();
    const ist = 5.5 * hour;
    const local = new Date(start + ist + 3 * day);
    local.setUTCHours(2, 0, 0, 0);
    const opens = new Date(local.getTime() - ist);
    const rebootDay = weekdays[local.getUTCDay()]!;
    const workflowId = `reboot-window-${counter}`;
    const result = await withWorker(activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(controllerUpgrade, {
        taskQueue,
        workflowId,
        args: [
          rolloutInput({
            rebootWindow: { start: '02:00', end: '05:00', days: [rebootDay], timeZone: 'Asia/Kolkata' },
          }),
        ],
      });
      // Not awaiting the result yet, so no time is skipped: the controller waits with the reason shown.
      let status = await handle.query(controllerStatusQuery);
      for (let i = 0; i < 100 && status.state !== 'waiting-window'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = await handle.query(controllerStatusQuery);
      }
      expect(status).toMatchObject({
        state: 'waiting-window',
        window: 'reboot',
        windowOpensAt: opens.toISOString(),
      });
      expect(activities.downloadImage).toHaveBeenCalledTimes(1);
      expect(activities.rebootController).not.toHaveBeenCalled();
      const described = await handle.describe();
      expect(described.searchAttributes).toMatchObject({ CiuState: ['waiting-window'] });
      return handle.result();
    });
    expect(result.state).toBe('upgraded');
    const rebootAt = calls.find((c) => c.name === 'rebootController')!.at;
    expect(rebootAt).toBeGreaterThanOrEqual(opens.getTime());
    expect(rebootAt).toBeLessThan(opens.getTime() + hour);
  });

  test('a download window holds the download; a campaign start time holds everything, even the inspect', async () => {
    const { activities, calls } = fakeActivities();
    const start = await env.currentTimeMs();
    const startAt = new Date(start + 2 * day).toISOString();
    const downloadFrom = new Date(start + 4 * day).toISOString();
    const downloadUntil = new Date(start + 4 * day + 2 * hour).toISOString();
    const workflowId = `download-window-${counter}`;
    const result = await withWorker(activities, (taskQueue) =>
      env.client.workflow.execute(controllerUpgrade, {
        taskQueue,
        workflowId,
        args: [rolloutInput({ startAt, downloadWindow: { from: downloadFrom, until: downloadUntil } })],
      }),
    );
    expect(result.state).toBe('upgraded');
    // The look is a local activity: its time is its marker's in the history (the server's clock).
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const looked = history.events?.find(
      (e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
    );
    const lookedAt =
      Number(looked?.eventTime?.seconds ?? 0) * 1000 + Math.floor((looked?.eventTime?.nanos ?? 0) / 1e6);
    expect(lookedAt).toBeGreaterThanOrEqual(Date.parse(startAt));
    expect(lookedAt).toBeLessThan(Date.parse(downloadFrom));
    const first = (name: string) => calls.find((c) => c.name === name)!.at;
    expect(first('downloadImage')).toBeGreaterThanOrEqual(Date.parse(downloadFrom));
    expect(first('downloadImage')).toBeLessThan(Date.parse(downloadUntil));
  });

  test('a one-off window that is already over fails the controller instead of waiting forever', async () => {
    const { activities } = fakeActivities();
    const start = await env.currentTimeMs();
    const result = await withWorker(activities, (taskQueue) =>
      env.client.workflow.execute(controllerUpgrade, {
        taskQueue,
        workflowId: `window-over-${counter}`,
        args: [
          rolloutInput({
            downloadWindow: {
              from: new Date(start - 2 * day).toISOString(),
              until: new Date(start - day).toISOString(),
            },
          }),
        ],
      }),
    );
    expect(result.state).toBe('failed');
    expect(result.lastError).toMatch(/^MaintenanceWindowOver: the download window \(once .*\) is over/);
    expect(activities.downloadImage).not.toHaveBeenCalled();
  });
});

describe("post-check with the controller's own health view", () => {
  const unhealthy = {
    found: true,
    status: 'up',
    configState: 'UPDATE FAILED',
    problem: 'show switches: Configuration State UPDATE FAILED',
  };

  test('a controller on the right image that reports itself unhealthy fails the post-check with its reason', async () => {
    const { activities } = fakeActivities({ inspectHealth: async () => unhealthy });
    const workflowId = `post-check-${counter}`;
    const result = await withWorker(activities, (taskQueue) =>
      env.client.workflow.execute(controllerUpgrade, { taskQueue, workflowId, args: [rolloutInput()] }),
    );
    expect(result).toMatchObject({ state: 'failed', runningVersion: '6.4.0.0', runningBuild: 81234 });
    expect(result.lastError).toBe(
      'PostCheckFailed: post-check failed: show switches: Configuration State UPDATE FAILED',
    );
    expect(activities.rebootController).toHaveBeenCalledTimes(1);
    expect(activities.inspectHealth).toHaveBeenCalledTimes(1);
  });

  test('with fallback an unhealthy controller is booted back into its old partition: Rolled back, with the cause', async () => {
    let boots = 0;
    const { activities } = fakeActivities({
      inspectController: async () =>
        boots === 1 ? factsFor(targetImage.version, targetImage.build) : factsFor(),
      rebootController: async () => {
        boots++;
      },
      inspectHealth: async () => unhealthy,
    });
    const result = await withWorker(activities, (taskQueue) =>
      env.client.workflow.execute(controllerUpgrade, {
        taskQueue,
        workflowId: `post-check-fallback-${counter}`,
        args: [rolloutInput({ fallback: true })],
      }),
    );
    expect(result).toMatchObject({ state: 'rolled-back', runningVersion: '6.3.1.0', runningBuild: 70000 });
    expect(result.lastError).toBe(
      'PostCheckFailed: post-check failed: show switches: Configuration State UPDATE FAILED; rolled back to partition 0 (6.3.1.0 build 70000)',
    );
    expect(activities.rebootController.mock.calls.map(([r]) => r.partition)).toEqual([1, 0]);
  });

  test('a health view ciu cannot read is not held against the controller', async () => {
    const { activities } = fakeActivities({
      inspectHealth: async () => {
        throw ApplicationFailure.nonRetryable('% Invalid input detected', failureTypes.commandRejected);
      },
    });
    const result = await withWorker(activities, (taskQueue) =>
      env.client.workflow.execute(controllerUpgrade, {
        taskQueue,
        workflowId: `post-check-unread-${counter}`,
        args: [rolloutInput()],
      }),
    );
    expect(result.state).toBe('upgraded');
  });
});

describe('the reboot confirms in the login that sees the controller back', () => {
  const healthy = { found: true, status: 'up', configState: 'UPDATE SUCCESSFUL' };
  const back = (rest: Partial<RebootResult> = {}): RebootResult => ({
    runningVersion: targetImage.version,
    runningBuild: targetImage.build,
    ...rest,
  });
  /** The controller reads (inspect*) the child ran after its reboot; a failure's log line is not one. */
  const after = (calls: CallRecord[]) =>
    calls
      .slice(calls.findIndex((c) => c.name === 'rebootController') + 1)
      .map((c) => c.name)
      .filter((name) => name.startsWith('inspect'));

  async function upgradeWith(overrides: Parameters<typeof fakeActivities>[0]) {
    const { activities, calls } = fakeActivities(overrides);
    const result = await withWorker(activities, (taskQueue) =>
      env.client.workflow.execute(controllerUpgrade, {
        taskQueue,
        workflowId: `reboot-confirms-${counter++}`,
        args: [input({ autoboot: true })],
      }),
    );
    return { result, activities, calls };
  }

  test('what the reboot saw is the confirmation: no inspect and no health view after it', async () => {
    const { result, activities, calls } = await upgradeWith({
      rebootController: async () => back({ health: healthy }),
    });
    expect(result).toMatchObject({ state: 'upgraded', runningVersion: '6.4.0.0', runningBuild: 81234 });
    expect(activities.rebootController.mock.calls[0]![0]).toMatchObject({ readHealth: true });
    expect(after(calls)).toEqual([]);
  });

  test("a controller back on the old image is a version mismatch from the reboot's own look", async () => {
    const { result, calls } = await upgradeWith({
      rebootController: async () => back({ runningVersion: '6.3.1.0', runningBuild: 70000, health: healthy }),
    });
    expect(result.state).toBe('failed');
    expect(result.lastError).toMatch(
      /^VersionMismatchAfterReboot: after reboot the controller runs 6.3.1.0 build 70000, expected 6.4.0.0 build 81234/,
    );
    expect(after(calls)).toEqual([]);
  });

  test('an unhealthy view read in the reboot fails the post-check; an unreadable one is not held against it', async () => {
    const problem = 'show switches: Configuration State UPDATE FAILED';
    const unhealthy = await upgradeWith({
      rebootController: async () => back({ health: { ...healthy, configState: 'UPDATE FAILED', problem } }),
    });
    expect(unhealthy.result.lastError).toBe(`PostCheckFailed: post-check failed: ${problem}`);
    expect(after(unhealthy.calls)).toEqual([]);

    const unreadable = await upgradeWith({
      rebootController: async () =>
        back({
          healthUnreadable: { type: failureTypes.commandRejected, message: '% Invalid input detected' },
        }),
    });
    expect(unreadable.result.state).toBe('upgraded');
    expect(after(unreadable.calls)).toEqual([]);
  });

  test('a health view the reboot could not read, or a worker that returned nothing, is read by its own activity', async () => {
    const noHealth = await upgradeWith({ rebootController: async () => back() });
    expect(noHealth.result.state).toBe('upgraded');
    expect(after(noHealth.calls)).toEqual(['inspectHealth']);

    // The default fake returns nothing, as a worker from before this change does.
    const olderWorker = await upgradeWith({});
    expect(olderWorker.result.state).toBe('upgraded');
    expect(after(olderWorker.calls)).toEqual(['inspectController', 'inspectHealth']);
  });
});
