import { execFile } from 'node:child_process';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { promisify } from 'node:util';
import {
  WorkflowFailedError,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import type { LocalTemporal } from '../../devkit/stack';
import { controllerWorkflowId, masterUpgrade, upgradeStatusQuery, type MasterOptions } from '../../workflows';
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

/** Terminates the workflow unless it already closed (a test that failed may have let it finish). */
async function endIfRunning(workflowId: string): Promise<void> {
  const handle = temporal.client.workflow.getHandle(workflowId);
  if ((await handle.describe()).status.name === 'RUNNING') await handle.terminate('test over');
}

/**
 * A campaign of one controller whose downloads keep failing, so it waits out a 1 h retry window far
 * from upgraded; `fn` runs once the master shows it waiting, then both workflows are terminated.
 */
async function withWaitingController(
  ip: string,
  fn: (
    master: WorkflowHandleWithFirstExecutionRunId<typeof masterUpgrade>,
    childId: string,
    taskQueue: string,
  ) => Promise<void>,
  options: MasterOptions = {},
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
      args: [config, undefined, options],
    });
    const childId = controllerWorkflowId(master.workflowId, ip);
    // Real (sealed) reports and slot requests are taken: the child got a slot and reported its cycle.
    await eventually(
      async () => (await master.query(upgradeStatusQuery)).controllers[0]?.state === 'waiting-retry',
    );
    try {
      await fn(master, childId, taskQueue);
    } finally {
      await endIfRunning(master.workflowId);
      await endIfRunning(childId);
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

/** The payloads of every `name` signal in the workflow's history (as stored: the seal in its wire form). */
async function signalsIn(workflowId: string, name: string): Promise<Payload[][]> {
  const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const signalled = e.workflowExecutionSignaledEventAttributes;
    return signalled?.signalName === name ? [(signalled.input?.payloads ?? []) as Payload[]] : [];
  });
}

/** The master's status once it recorded a forged message (`what`), or a timeout naming its controller. */
async function untilForgedRecorded(master: WorkflowHandle<typeof masterUpgrade>, what: string) {
  let last: unknown;
  return eventually(
    async () => {
      const s = await master.query(upgradeStatusQuery);
      last = s.controllers[0];
      return (s.forgedMessages?.length ?? 0) >= 1 && s;
    },
    { timeoutMs: 30_000, what: () => `${what} recorded; the controller: ${JSON.stringify(last)}` },
  );
}

const fromPayload = <T>(payload: Payload | undefined) =>
  defaultPayloadConverter.fromPayload<T>(payload as Payload);

test("a controllerUpgrade started under a real child's ID while it is not running is not believed; the master records it", async () => {
  // The master continues as new soon after starting the child: no run of it waits for that child's result.
  await withWaitingController(
    '10.1.4.4',
    async (handle, childId, taskQueue) => {
      await eventually(async () => (await handle.describe()).runId !== handle.firstExecutionRunId);
      const history = await temporal.client.workflow.getHandle(childId).fetchHistory();
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      const realInput = fromPayload<Record<string, unknown>>(started?.input?.payloads?.[0] as Payload);
      await temporalCli('workflow', 'terminate', '--workflow-id', childId, '--reason', 'attacker');
      // Same campaign, same controller; an image the controller already runs, so this run reports "up-to-date".
      const forgedInput = {
        ...realInput,
        image: { ...(realInput.image as object), version: '6.3.1.0', build: 70000 },
      };
      await temporalCli(
        'workflow',
        'start',
        '--type',
        'controllerUpgrade',
        '--task-queue',
        taskQueue,
        '--workflow-id',
        childId,
        '--input',
        JSON.stringify(forgedInput),
      );
      const forgedRun = await temporal.client.workflow.getHandle(childId);
      await expect(forgedRun.result()).resolves.toMatchObject({ state: 'up-to-date' });
      // The worker sealed the impostor's reports: they are authentic, but from a run the master never started.
      expect((await signalsIn(handle.workflowId, 'controllerUpdate')).length).toBeGreaterThan(0);
      const after = await untilForgedRecorded(handle, 'the impostor');
      expect(after.controllers[0]).toMatchObject({ ip: '10.1.4.4', state: 'waiting-retry' });
      const impostor = (await forgedRun.describe()).runId;
      expect(after.forgedMessages).toContain(
        `controllerUpdate claiming ${childId}: sent by run ${impostor}, not the child this campaign started`,
      );
    },
    { historyLimit: 20 },
  );
});

test('a sealed report taken from the history and sent again with the temporal CLI changes nothing', async () => {
  await withWaitingController('10.1.4.5', async (handle) => {
    const reports = await signalsIn(handle.workflowId, 'controllerUpdate');
    const downloading = reports.find(
      ([report]) => fromPayload<{ state: string }>(report).state === 'downloading',
    ) as Payload[];
    expect(downloading).toBeDefined();
    const text = (p: Payload) => Buffer.from(p.data ?? []).toString('utf8');
    const encoding = (p: Payload) => Buffer.from(p.metadata?.encoding ?? []).toString('utf8');
    expect(downloading.map(encoding)).toEqual(['json/plain', 'ciu/seal']);
    // Byte for byte as stored: each input with its own encoding (the CLI pairs repeated metadata in order).
    await temporalCli(
      'workflow',
      'signal',
      '--workflow-id',
      handle.workflowId,
      '--name',
      'controllerUpdate',
      ...downloading.flatMap((p) => ['--input', text(p), '--input-meta', `encoding=${encoding(p)}`]),
    );
    const after = await untilForgedRecorded(handle, 'the replayed report');
    expect(after.controllers[0]).toMatchObject({ ip: '10.1.4.5', state: 'waiting-retry' });
    expect(after.forgedMessages).toEqual([
      expect.stringMatching(
        new RegExp(
          `^controllerUpdate claiming ${handle.workflowId}/10\\.1\\.4\\.5: replayed \\(sequence \\d+, last \\d+\\)$`,
        ),
      ),
    ]);
  });
});
