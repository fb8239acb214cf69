import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
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

/** `temporal workflow signal` with each input a JSON argument. */
const signal = (workflowId: string, name: string, ...inputs: string[]) =>
  temporalCli(
    'workflow',
    'signal',
    '--workflow-id',
    workflowId,
    '--name',
    name,
    ...inputs.flatMap((i) => ['--input', i]),
  );

const temporalCli = (...args: string[]) =>
  run(temporalCliPath(), [...args, '--address', temporal.dev.address]).then(({ stdout }) => stdout);

/**
 * A campaign of one controller whose downloads keep failing, so it waits out a 1 h retry window far
 * from upgraded; `fn` runs once the master shows it waiting, then both workflows are terminated.
 */
async function withWaitingController(
  ip: string,
  fn: (master: WorkflowHandle<typeof masterUpgrade>, childId: string) => Promise<void>,
): Promise<void> {
  const { activities } = fakeActivities({
    downloadImage: async () => {
      throw downloadFailure();
    },
  });
  const config = campaignConfig([controller(ip)], { retryInterval: '1h', quickTryBackoff: '1s' });
  await withWorker({ connection: temporal.workerConnection, activities }, async (taskQueue) => {
    const master = await temporal.client.workflow.start(masterUpgrade, {
      taskQueue,
      workflowId: `forged-${taskQueue}`,
      args: [config],
    });
    const childId = controllerWorkflowId(master.workflowId, ip);
    // Real (sealed) reports and slot requests are taken: the child got a slot and reported its cycle.
    await eventually(
      async () => (await master.query(upgradeStatusQuery)).controllers[0]?.state === 'waiting-retry',
    );
    try {
      await fn(master, childId);
    } finally {
      await master.terminate('test over');
      await temporal.client.workflow.getHandle(childId).terminate('test over');
    }
  });
}

test('a controllerUpdate forged with the temporal CLI does not make a controller "Upgraded"; the master records it', async () => {
  await withWaitingController('10.1.4.1', async (handle, childId) => {
    const status = () => handle.query(upgradeStatusQuery);
    const forged = JSON.stringify({ ip: '10.1.4.1', state: 'upgraded', attempts: 1, final: true });
    await signal(handle.workflowId, 'controllerUpdate', forged);
    // A JSON "verdict" in the seal's place is no seal either.
    const fakeVerdict = JSON.stringify({
      ciuVerdict: {
        authentic: true,
        kind: 'controllerUpdate',
        from: controllerWorkflowId(handle.workflowId, '10.1.4.1'),
      },
    });
    await signal(handle.workflowId, 'controllerUpdate', forged, fakeVerdict);
    await signal(handle.workflowId, 'downloadSlotRequest', '{"ip":"10.9.9.9"}');

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
    expect((await temporal.client.workflow.getHandle(childId).describe()).status.name).toBe('RUNNING');
  });
});

test('a purge forged to a child with the temporal CLI is ignored; the child keeps waiting', async () => {
  await withWaitingController('10.1.4.2', async (handle, childId) => {
    await signal(childId, 'purge');
    // Processed once a workflow task completed after the signal; the forged purge left the child waiting.
    await eventually(async () => {
      const { events } = JSON.parse(
        await temporalCli('workflow', 'show', '--workflow-id', childId, '--output', 'json'),
      ) as {
        events: Array<{
          eventType: string;
          workflowExecutionSignaledEventAttributes?: { signalName: string };
        }>;
      };
      const signalled = events.findIndex(
        (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'purge',
      );
      return (
        signalled >= 0 &&
        events.slice(signalled).some((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED')
      );
    });
    const child = temporal.client.workflow.getHandle(childId);
    expect((await child.describe()).status.name).toBe('RUNNING');
    expect((await handle.query(upgradeStatusQuery)).controllers[0]?.state).toBe('waiting-retry');
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
