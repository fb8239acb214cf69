import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  commitConfigUpdate,
  controllerUpgrade,
  controllerWorkflowId,
  masterUpgrade,
  upgradeStatusQuery,
} from '../../workflows';
import type { MasterOptions } from '../../workflows/master-upgrade';
import { eventually } from '../fixtures/eventually';
import { withWorker } from '../fixtures/worker';
import { useTimeSkippingServer } from './time-skipping-server';
import { campaignConfig, controller, controllerInput, fakeActivities } from './fake-activities';

// Temporal allows a workflow 2,000 pending children and 2,000 pending outgoing signals: a master
// starts at most childrenPerRun children per run, then continues as new, and keeps at most
// signalsAtOnce signals pending (here with small bounds, so a few controllers show it).
let env: TestWorkflowEnvironment;
useTimeSkippingServer((started) => (env = started));

const ips = (n: number) => Array.from({ length: n }, (_, i) => `10.0.7.${i + 1}`);

/** Every run of the campaign, first to last, with its history events. */
async function runHistories(
  handle: WorkflowHandle<typeof masterUpgrade>,
  firstRunId: string,
): Promise<temporal.api.history.v1.IHistoryEvent[][]> {
  const runs: temporal.api.history.v1.IHistoryEvent[][] = [];
  let runId: string | null | undefined = firstRunId;
  while (runId) {
    const history: temporal.api.history.v1.IHistory = await env.client.workflow
      .getHandle(handle.workflowId, runId)
      .fetchHistory();
    const events = history.events ?? [];
    runs.push(events);
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
  }
  return runs;
}

/** The most outgoing signals one run had pending at once. */
function peakPendingSignals(events: temporal.api.history.v1.IHistoryEvent[]): number {
  let pending = 0;
  let peak = 0;
  for (const e of events) {
    if (e.signalExternalWorkflowExecutionInitiatedEventAttributes) peak = Math.max(peak, ++pending);
    if (
      e.externalWorkflowExecutionSignaledEventAttributes ||
      e.signalExternalWorkflowExecutionFailedEventAttributes
    )
      pending--;
  }
  return peak;
}

const childStarts = (events: temporal.api.history.v1.IHistoryEvent[]) =>
  events.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).length;

/** The names of the signals a history received and of those it sent, in order. */
function signalNames(events: temporal.api.history.v1.IHistoryEvent[]): {
  received: string[];
  sent: string[];
} {
  return {
    received: events.flatMap((e) => e.workflowExecutionSignaledEventAttributes?.signalName ?? []),
    sent: events.flatMap((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName ?? []),
  };
}

test('a run starts at most childrenPerRun children, then continues as new; every controller still ends upgraded, its end heard by result or, once its run handed over, by signal', async () => {
  const { activities } = fakeActivities();
  const config = campaignConfig(
    ips(9).map((ip) => controller(ip)),
    { autoboot: true },
  );
  const { summary, runs, children } = await withWorker(
    { connection: env.nativeConnection, activities },
    async (taskQueue) => {
      const handle = await env.client.workflow.start(masterUpgrade, {
        taskQueue,
        workflowId: `children-per-run-${taskQueue}`,
        args: [config, undefined, { searchAttributes: false, childrenPerRun: 4 }],
      });
      const summary = await handle.result();
      const children = await Promise.all(
        ips(9).map(
          async (ip) =>
            (await env.client.workflow.getHandle(controllerWorkflowId(handle.workflowId, ip)).fetchHistory())
              .events ?? [],
        ),
      );
      return { summary, runs: await runHistories(handle, handle.firstExecutionRunId), children };
    },
  );
  expect(summary.counts).toEqual({ upgraded: 9 });
  expect(summary.controllers).toHaveLength(9);
  expect(runs.map(childStarts).filter((n) => n > 0)).toEqual([4, 4, 1]);
  // A run about to continue as new told each child it started that had not ended to report its end by signal.
  const handedOver = runs.flatMap((events) =>
    signalNames(events).sent.filter((n) => n === 'reportEndBySignal'),
  );
  const told = children.filter((events) => signalNames(events).received.includes('reportEndBySignal'));
  // (A child that ended just before the message reached it sent its result to the run, which waited for it.)
  expect(told.length).toBeLessThanOrEqual(handedOver.length);
  expect(told.length).toBeGreaterThan(0);
  // After its reboot, a child told so sends its last report ('upgraded') by signal; one whose run heard its result sends none.
  for (const events of children) {
    const afterReboot = events.slice(
      events.map((e) => Boolean(e.activityTaskCompletedEventAttributes)).lastIndexOf(true),
    );
    const wasTold = signalNames(events).received.includes('reportEndBySignal');
    expect(signalNames(afterReboot).sent).toEqual(wasTold ? ['controllerUpdate'] : []);
  }
  expect(told.length).toBeLessThan(9);
  // Every continued run gets room for a long replay: 30 s workflow tasks.
  const taskTimeouts = runs.map(
    (events) => events[0]?.workflowExecutionStartedEventAttributes?.workflowTaskTimeout?.seconds,
  );
  expect(taskTimeouts.slice(1).map(Number)).toEqual(taskTimeouts.slice(1).map(() => 30));
  expect(taskTimeouts.length).toBeGreaterThan(1);
});

test('a commit that moves the download window reaches every waiting child, at most signalsAtOnce pending at a time', async () => {
  const { activities, calls } = fakeActivities();
  const start = await env.currentTimeMs();
  const day = 24 * 3_600_000;
  const farWindow = {
    from: new Date(start + 3 * day).toISOString(),
    until: new Date(start + 3 * day + 3_600_000).toISOString(),
  };
  const config = campaignConfig(
    ips(6).map((ip) => controller(ip)),
    { autoboot: true, downloadWindow: farWindow },
  );
  const runs = await withWorker({ connection: env.nativeConnection, activities }, async (taskQueue) => {
    const handle = await env.client.workflow.start(masterUpgrade, {
      taskQueue,
      workflowId: `signals-at-once-${taskQueue}`,
      args: [config, undefined, { searchAttributes: false, signalsAtOnce: 2 }],
    });
    // Querying, not awaiting the result: no time is skipped while the children wait for the far window.
    await eventually(async () => (await handle.query(upgradeStatusQuery)).counts['waiting-window'] === 6, {
      timeoutMs: 30_000,
      what: 'six children waiting for the download window three days out',
    });
    const now = await env.currentTimeMs();
    const openNow = {
      from: new Date(now - 3_600_000).toISOString(),
      until: new Date(now + 3_600_000).toISOString(),
    };
    const commit = await handle.executeUpdate(commitConfigUpdate, {
      args: [{ ...config, profile: { ...config.profile, downloadWindow: openNow } }],
    });
    expect(commit.changed).toBe(true);
    expect((await handle.result()).counts).toEqual({ upgraded: 6 });
    return runHistories(handle, handle.firstExecutionRunId);
  });
  const downloads = calls.filter((c) => c.name === 'downloadImage');
  expect(downloads).toHaveLength(6);
  for (const d of downloads) expect(d.at).toBeLessThan(start + day);
  const timingSignals = runs
    .flat()
    .filter((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName === 'rolloutTiming');
  expect(timingSignals).toHaveLength(6);
  expect(Math.max(...runs.map(peakPendingSignals))).toBeLessThanOrEqual(2);
});

/**
 * Ten controllers, max-downloads 2, every download held: `looks` of them are looked at and the rest
 * wait unstarted while the downloads are held; then they finish. Returns the master's ID and result.
 */
async function tenHeldForTwoSlots(options: MasterOptions, looks: number) {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const { activities, calls } = fakeActivities({
    downloadImage: async () => {
      await held;
      return { bytes: 1024 };
    },
  });
  const config = campaignConfig(
    ips(10).map((ip) => controller(ip)),
    { maxDownloads: 2 },
  );
  const looked = () => new Set(calls.filter((c) => c.name === 'inspectController').map((c) => c.ip)).size;
  const workflowId = `held-for-two-slots-${Date.now()}`;
  const summary = await withWorker({ connection: env.nativeConnection, activities }, async (taskQueue) => {
    const handle = await env.client.workflow.start(masterUpgrade, {
      taskQueue,
      workflowId,
      args: [config, undefined, { searchAttributes: false, ...options }],
    });
    try {
      await eventually(async () => looked() >= looks, { timeoutMs: 20_000 });
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(looked()).toBe(looks);
      expect((await handle.query(upgradeStatusQuery)).counts['waiting-verification']).toBe(10 - looks);
    } finally {
      release();
    }
    return handle.result();
  });
  return { workflowId, summary };
}

test('at most twice max-downloads children are alive before their download: the others start as slots free', async () => {
  // Two hold a slot and their download waits; two more looked and wait for a slot; six wait unstarted.
  const { summary } = await tenHeldForTwoSlots({}, 4);
  expect(summary.counts).toEqual({ 'downloaded-reboot-required': 10 });
});

test('a campaign larger than lookAheadUpTo starts each child only with a free slot: no child waits for a grant, and max-downloads still holds', async () => {
  // Two hold a slot and their download waits; the eight others wait unstarted, none looked at.
  const { workflowId, summary } = await tenHeldForTwoSlots({ lookAheadUpTo: 9 }, 2);
  expect(summary.counts).toEqual({ 'downloaded-reboot-required': 10 });
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  const { sent } = signalNames(history.events ?? []);
  expect(sent.filter((name) => name === 'downloadSlotGrant')).toEqual([]);
  expect(childStarts(history.events ?? [])).toBe(10);
});

test('a child started while every slot is taken is queued with its start: it never asks for a slot, and max-downloads still holds', async () => {
  let downloading = 0;
  let mostAtOnce = 0;
  const { activities } = fakeActivities({
    downloadImage: async () => {
      mostAtOnce = Math.max(mostAtOnce, ++downloading);
      await new Promise((resolve) => setTimeout(resolve, 200));
      downloading--;
      return { bytes: 1024 };
    },
  });
  const config = campaignConfig(
    ips(4).map((ip) => controller(ip)),
    { maxDownloads: 1 },
  );
  const workflowId = `queued-with-start-${Date.now()}`;
  const summary = await withWorker({ connection: env.nativeConnection, activities }, (taskQueue) =>
    env.client.workflow.execute(masterUpgrade, {
      taskQueue,
      workflowId,
      args: [config, undefined, { searchAttributes: false }],
    }),
  );
  expect(summary.counts).toEqual({ 'downloaded-reboot-required': 4 });
  expect(mostAtOnce).toBe(1);
  const asked = await Promise.all(
    ips(4).map(async (ip) => {
      const history = await env.client.workflow
        .getHandle(controllerWorkflowId(workflowId, ip))
        .fetchHistory();
      return (history.events ?? []).filter(
        (e) =>
          e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName === 'downloadSlotRequest',
      ).length;
    }),
  );
  expect(asked).toEqual([0, 0, 0, 0]);
});

test("a master's children run every change without a patch marker each (the master vouches for them); a child started alone still records them", async () => {
  const { activities } = fakeActivities();
  const config = campaignConfig(
    ips(2).map((ip) => controller(ip)),
    { autoboot: true },
  );
  const workflowId = `behaviour-${Date.now()}`;
  const patchEvents = async (id: string) => {
    const history = await env.client.workflow.getHandle(id).fetchHistory();
    return (history.events ?? []).filter(
      (e) =>
        e.markerRecordedEventAttributes?.markerName === 'core_patch' ||
        e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields
          ?.TemporalChangeVersion,
    ).length;
  };
  await withWorker({ connection: env.nativeConnection, activities }, async (taskQueue) => {
    const summary = await env.client.workflow.execute(masterUpgrade, {
      taskQueue,
      workflowId,
      args: [config, undefined, { searchAttributes: false }],
    });
    expect(summary.counts).toEqual({ upgraded: 2 });
    expect(await Promise.all(ips(2).map((ip) => patchEvents(controllerWorkflowId(workflowId, ip))))).toEqual([
      0, 0,
    ]);
    const alone = await env.client.workflow.execute(controllerUpgrade, {
      taskQueue,
      workflowId: `${workflowId}-alone`,
      args: [
        controllerInput({
          campaign: workflowId,
          controller: controller('10.0.7.9'),
          autoboot: true,
          searchAttributes: false,
        }),
      ],
    });
    expect(alone.state).toBe('upgraded');
    expect(await patchEvents(`${workflowId}-alone`)).toBeGreaterThan(0);
  });
});

test("a master started with options it cannot keep (someone's own temporal workflow start) fails at once naming each field, before any child", async () => {
  const { activities } = fakeActivities();
  const workflowId = `bad-options-${Date.now()}`;
  const err = await withWorker({ connection: env.nativeConnection, activities }, (taskQueue) =>
    env.client.workflow
      .execute(masterUpgrade, {
        taskQueue,
        workflowId,
        args: [
          campaignConfig(ips(2).map((ip) => controller(ip))),
          undefined,
          {
            historyLimit: '50',
            childrenPerRun: 5_000,
            signalsAtOnce: 0,
            shards: 4,
          } as unknown as MasterOptions,
        ],
      })
      .catch((e: unknown) => e),
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
  expect(cause.type).toBe('InvalidInput');
  for (const issue of [
    'options.historyLimit must be a number',
    'options.childrenPerRun must be <= 2000 (Temporal: pending children per workflow)',
    'options.signalsAtOnce must be >= 1',
    'options',
    'shards',
  ])
    expect(cause.message).toContain(issue);
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  expect(history.events?.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toEqual([]);
  expect(activities.verifyImage).not.toHaveBeenCalled();
});
