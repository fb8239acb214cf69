/**
 * controllerUpgrade's rollout controls under the time-skipping server: pre-checks before any
 * download, fallback to the previous partition after a wrong-version boot, maintenance windows and
 * the campaign start time on durable timers.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { failureTypes } from '../../src/domain/errors';
import { weekdays } from '../../src/domain/windows';
import { controllerStatusQuery, controllerUpgrade, type ControllerUpgradeInput } from '../../workflows';
import { createTimeSkippingEnv } from '../fixtures/temporal';
import { registerSearchAttributes } from './register-search-attributes';
import {
  controller,
  factsFor,
  fakeActivities,
  installQuietRuntime,
  quietLogger,
  targetImage,
} from './fake-activities';

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

function input(overrides: Partial<ControllerUpgradeInput> = {}): ControllerUpgradeInput {
  return {
    campaign: 'rollout-test',
    controller: controller('10.1.4.17'),
    source: {
      imageFile: 'ArubaOS_72xx_6.4.0.0_81234',
      server: { host: '127.0.0.1', port: 2121 },
      protocol: 'ftp',
      credentialsRef: 'ftp-images',
    },
    image: targetImage,
    autoboot: true,
    retryInterval: '15m',
    quickTries: 3,
    quickTryBackoff: '5s',
    partition: 'non-boot',
    ...overrides,
  };
}

let counter = 0;
async function withWorker<T>(activities: object, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `rollout-${Date.now()}-${counter++}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities,
  });
  return worker.runUntil(fn(taskQueue));
}

const hour = 3_600_000;
const day = 24 * hour;

describe('pre-checks before any download', () => {
  test('a full flash is found before the transfer: Pre-check failed, FlashFull with both sizes, nothing downloaded', async () => {
    const { activities } = fakeActivities({
      inspectStorage: async () => ({ freeBytes: 1024, sizeBytes: 2 * 1024 ** 3 }),
    });
    const workflowId = `precheck-flash-${counter}`;
    const result = await withWorker(activities, (taskQueue) =>
      env.client.workflow.execute(controllerUpgrade, { taskQueue, workflowId, args: [input()] }),
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
        args: [input({ partition: 0 })],
      }),
    );
    expect(result).toMatchObject({
      state: 'pre-check-failed',
      lastError:
        'PreCheckFailed: pre-check failed: the controller reports model A7005, the inventory says A7210; partition 0 is the one the controller booted from; it is never overwritten',
    });
    expect(activities.downloadImage).not.toHaveBeenCalled();
  });

  test('no-pre-checks skips show storage', async () => {
    const { activities } = fakeActivities();
    const result = await withWorker(activities, (taskQueue) =>
      env.client.workflow.execute(controllerUpgrade, {
        taskQueue,
        workflowId: `precheck-off-${counter}`,
        args: [input({ preChecks: false })],
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
        args: [input({ fallback: true })],
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
        args: [input({ fallback: true })],
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
        args: [input()],
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
        args: [input({ fallback: true })],
      }),
    );
    expect(result.state).toBe('failed');
    expect(activities.rebootController).toHaveBeenCalledTimes(1);
  });
});

describe('maintenance windows', () => {
  test('a reboot window that opens at 02:00 three simulated days later: downloaded now, waiting visibly, rebooted at 02:00', async () => {
    const { activities, calls } = fakeActivities();
    const start = await env.currentTimeMs();
    const opens = new Date(start + 3 * day);
    opens.setUTCHours(2, 0, 0, 0);
    const rebootDay = weekdays[opens.getUTCDay()]!;
    const workflowId = `reboot-window-${counter}`;
    const result = await withWorker(activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(controllerUpgrade, {
        taskQueue,
        workflowId,
        args: [input({ rebootWindow: { start: '02:00', end: '05:00', days: [rebootDay], timeZone: 'UTC' } })],
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
    const result = await withWorker(activities, (taskQueue) =>
      env.client.workflow.execute(controllerUpgrade, {
        taskQueue,
        workflowId: `download-window-${counter}`,
        args: [input({ startAt, downloadWindow: { from: downloadFrom, until: downloadUntil } })],
      }),
    );
    expect(result.state).toBe('upgraded');
    const first = (name: string) => calls.find((c) => c.name === name)!.at;
    expect(first('inspectController')).toBeGreaterThanOrEqual(Date.parse(startAt));
    expect(first('inspectController')).toBeLessThan(Date.parse(downloadFrom));
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
          input({
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
