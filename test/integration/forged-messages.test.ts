import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import type { LocalTemporal } from '../../devkit/stack';
import { controllerWorkflowId, masterUpgrade, upgradeStatusQuery } from '../../workflows';
import { eventually } from '../fixtures/eventually';
import { startTestTemporal, temporalCliPath } from '../fixtures/temporal';
import { withWorker } from '../fixtures/worker';
import {
  campaignConfig,
  controller,
  downloadFailure,
  fakeActivities,
  installQuietRuntime,
} from '../workflow/fake-activities';

// Issue 12.2 on the real dev server: whoever can signal the namespace sends the master the messages
// its children send, with the plain `temporal` CLI. Workers seal their own (test worker: fixtures/worker.ts).
const run = promisify(execFile);
let temporal: LocalTemporal;

beforeAll(async () => {
  installQuietRuntime();
  temporal = await startTestTemporal();
});

afterAll(() => temporal?.stop());

const temporalCli = (...args: string[]) =>
  run(temporalCliPath(), [...args, '--address', temporal.dev.address]).then(({ stdout }) => stdout);

test('a controllerUpdate forged with the temporal CLI does not make a controller "Upgraded"; the master records it', async () => {
  // The controller's downloads keep failing: it waits out a 1 h retry window, far from upgraded.
  const { activities } = fakeActivities({
    downloadImage: async () => {
      throw downloadFailure();
    },
  });
  const config = campaignConfig([controller('10.1.4.1')], { retryInterval: '1h', quickTryBackoff: '1s' });
  await withWorker({ connection: temporal.workerConnection, activities }, async (taskQueue) => {
    const handle = await temporal.client.workflow.start(masterUpgrade, {
      taskQueue,
      workflowId: `forged-${taskQueue}`,
      args: [config],
    });
    const status = () => handle.query(upgradeStatusQuery);
    // Real (sealed) reports and slot requests are taken: the child got a slot and reported its cycle.
    await eventually(async () => (await status()).controllers[0]?.state === 'waiting-retry');

    const forged = JSON.stringify({ ip: '10.1.4.1', state: 'upgraded', attempts: 1, final: true });
    await temporalCli(
      'workflow',
      'signal',
      '--workflow-id',
      handle.workflowId,
      '--name',
      'controllerUpdate',
      '--input',
      forged,
    );
    // A JSON "verdict" in the seal's place is no seal either.
    const fakeVerdict = JSON.stringify({
      ciuVerdict: {
        authentic: true,
        kind: 'controllerUpdate',
        from: controllerWorkflowId(handle.workflowId, '10.1.4.1'),
      },
    });
    await temporalCli(
      'workflow',
      'signal',
      '--workflow-id',
      handle.workflowId,
      '--name',
      'controllerUpdate',
      '--input',
      forged,
      '--input',
      fakeVerdict,
    );
    await temporalCli(
      'workflow',
      'signal',
      '--workflow-id',
      handle.workflowId,
      '--name',
      'downloadSlotRequest',
      '--input',
      '{"ip":"10.9.9.9"}',
    );

    const after = await eventually(async () => {
      const s = await status();
      return (s.forgedMessages?.length ?? 0) >= 3 && s;
    });
    expect(after.controllers[0]).toMatchObject({ ip: '10.1.4.1', state: 'waiting-retry' });
    expect(after.counts).toEqual({ 'waiting-retry': 1 });
    expect(after.downloadSlots.waiting).toBe(0);
    expect(after.forgedMessages).toEqual([
      `controllerUpdate claiming ${handle.workflowId}/10.1.4.1: no seal`,
      `controllerUpdate claiming ${handle.workflowId}/10.1.4.1: no seal`,
      `downloadSlotRequest claiming ${handle.workflowId}/10.9.9.9: no seal`,
    ]);
    const child = await temporal.client.workflow
      .getHandle(controllerWorkflowId(handle.workflowId, '10.1.4.1'))
      .describe();
    expect(child.status.name).toBe('RUNNING');
    await handle.terminate('test over');
    await temporal.client.workflow
      .getHandle(controllerWorkflowId(handle.workflowId, '10.1.4.1'))
      .terminate('test over');
  });
});

test('a purge forged to a child with the temporal CLI is ignored; the child keeps waiting', async () => {
  const { activities } = fakeActivities({
    downloadImage: async () => {
      throw downloadFailure();
    },
  });
  const config = campaignConfig([controller('10.1.4.2')], { retryInterval: '1h', quickTryBackoff: '1s' });
  await withWorker({ connection: temporal.workerConnection, activities }, async (taskQueue) => {
    const handle = await temporal.client.workflow.start(masterUpgrade, {
      taskQueue,
      workflowId: `forged-child-${taskQueue}`,
      args: [config],
    });
    await eventually(
      async () => (await handle.query(upgradeStatusQuery)).controllers[0]?.state === 'waiting-retry',
    );
    const childId = controllerWorkflowId(handle.workflowId, '10.1.4.2');
    await temporalCli('workflow', 'signal', '--workflow-id', childId, '--name', 'purge');
    // Processed once a workflow task completed after the signal; the forged purge left the child waiting.
    await eventually(async () => {
      const { events } = JSON.parse(
        await temporalCli('workflow', 'show', '--workflow-id', childId, '--output', 'json'),
      ) as { events: Array<{ eventType: string }> };
      const signalled = events.findIndex((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED');
      return (
        signalled >= 0 &&
        events.slice(signalled).some((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED')
      );
    });
    const child = temporal.client.workflow.getHandle(childId);
    expect((await child.describe()).status.name).toBe('RUNNING');
    expect((await handle.query(upgradeStatusQuery)).controllers[0]?.state).toBe('waiting-retry');
    await handle.terminate('test over');
    await child.terminate('test over');
  });
});

test('a masterUpgrade started with a carried state it did not produce is refused', async () => {
  const { activities } = fakeActivities();
  const config = campaignConfig([controller('10.1.4.3')]);
  const carried = {
    revision: 1,
    targets: {},
    checks: {},
    slots: { holders: [], queue: [], grants: [] },
    unmatched: [],
  };
  const err = await withWorker({ connection: temporal.workerConnection, activities }, (taskQueue) =>
    temporal.client.workflow
      .execute(masterUpgrade, { taskQueue, workflowId: `carried-${taskQueue}`, args: [config, carried] })
      .catch((e: unknown) => e),
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((err as WorkflowFailedError).cause).toMatchObject({
    type: 'InvalidInput',
    message: expect.stringContaining(
      'carried state refused: it was not written by the run this one continues',
    ),
  });
  expect(activities.verifyImage).not.toHaveBeenCalled();
});
