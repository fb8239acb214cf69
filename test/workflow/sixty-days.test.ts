import type { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import {
  controllerStatusQuery,
  controllerUpgrade,
  purgeSignal,
  type ControllerUpgradeInput,
} from '../../workflows';
import { useTimeSkippingServer } from './time-skipping-server';
import { workflowBundle } from '../fixtures/worker';
import { controller, downloadFailure, fakeActivities, targetImage } from './fake-activities';

// A controller that stays unreachable for 60 days, under the time-skipping server (child alone, no
// master). Events per run depend only on the cycles per run (continue-as-new every 20 cycles), not
// on the interval; a 6-hour retry interval keeps the wall time of 60 simulated days short (240
// cycles, 720 download tries) while exercising a dozen continue-as-new hand-overs.
let env: TestWorkflowEnvironment;
useTimeSkippingServer((started) => (env = started));

const day = 24 * 3_600_000;

test('60 simulated days of failures: the loop keeps going and every run stays under 10,000 events', async () => {
  const { activities } = fakeActivities({
    downloadImage: async () => {
      throw downloadFailure('image server unreachable');
    },
  });
  const taskQueue = `sixty-${Date.now()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
  });
  const input: ControllerUpgradeInput = {
    campaign: 'sixty-days',
    controller: controller('10.1.4.17'),
    source: { imageFile: 'ArubaOS_72xx_6.4.0.0_81234', server: { host: '127.0.0.1' }, protocol: 'tftp' },
    image: targetImage,
    autoboot: false,
    retryInterval: '6h',
    quickTries: 3,
    quickTryBackoff: '5s',
    partition: 'non-boot',
  };
  const workflowId = `sixty-days-${Date.now()}`;
  const { histories, result, status } = await worker.runUntil(async () => {
    const started = await env.currentTimeMs();
    const handle = await env.client.workflow.start(controllerUpgrade, {
      taskQueue,
      workflowId,
      args: [input],
    });
    await env.sleep(60 * day);
    expect((await env.currentTimeMs()) - started).toBeGreaterThanOrEqual(60 * day);
    const latest = env.client.workflow.getHandle(workflowId);
    const status = await latest.query(controllerStatusQuery);
    await latest.signal(purgeSignal);
    const result = await latest.result();
    const histories: temporal.api.history.v1.IHistory[] = [];
    for (let runId: string | undefined = handle.firstExecutionRunId; runId;) {
      const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
      histories.push(history);
      const last = history.events?.at(-1);
      runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    return { histories, result, status };
  });

  expect(status.state).toBe('waiting-retry');
  // The search attributes carried over every continue-as-new and kept counting.
  const described = await env.client.workflow.getHandle(workflowId).describe();
  expect(described.searchAttributes.CiuAttempts).toEqual([result.attempts]);
  expect(described.searchAttributes.CiuState).toEqual(['purged']);
  expect(status.lastError).toMatch(/image server unreachable/);
  expect(result.state).toBe('purged');
  // 60 days / (6 h + quick tries) ≈ 240 cycles, 3 tries each, counters carried across runs.
  expect(result.cycles).toBeGreaterThanOrEqual(235);
  expect(result.attempts).toBe(result.cycles * 3);
  expect(activities.downloadImage.mock.calls.length).toBe(result.attempts);
  expect(histories.length).toBeGreaterThanOrEqual(12);
  const lengths = histories.map((h) => h.events?.length ?? 0);
  for (const length of lengths) expect(length).toBeLessThan(10_000);
  expect(Math.max(...lengths)).toBeLessThan(2_000);
});
