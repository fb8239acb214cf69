import { Context } from '@temporalio/activity';
import {
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { failureTypes } from '../../src/domain/errors';
import type { LocalTemporal } from '../../devkit/stack';
import type { controllerUpgrade } from '../../workflows';
import {
  commitConfigUpdate,
  controllerWorkflowId,
  masterUpgrade,
  purgeTargetsSignal,
  purgeTargetsUpdate,
  upgradeStatusQuery,
} from '../../workflows';
import { eventually } from '../fixtures/eventually';
import { startTestTemporal } from '../fixtures/temporal';
import { withWorker } from '../fixtures/worker';
import {
  campaignConfig,
  controller,
  downloadFailure,
  fakeActivities,
  installQuietRuntime,
  targetImage,
} from '../workflow/fake-activities';
import type { CampaignSummary } from '../../src/domain/status';
import type { CampaignConfig } from '../../src/domain/types';
import type { UpgradeActivities } from '../../activities/types';

// masterUpgrade with its real children on the real dev server (the time-skipping server is not
// used for parent/child flows). Activities are typed fakes registered on a real Worker; retry
// intervals are short ('2s') or long ('1h') so each test controls what the children do.
let temporal: LocalTemporal;

beforeAll(async () => {
  installQuietRuntime();
  temporal = await startTestTemporal();
});

afterAll(() => temporal?.stop());

/** Starts masterUpgrade with `args` on a worker of its own running the fakes; the campaign is named after its task queue. */
function withCampaign<T>(
  activities: UpgradeActivities,
  args: Parameters<typeof masterUpgrade>,
  fn: (handle: WorkflowHandleWithFirstExecutionRunId<typeof masterUpgrade>) => Promise<T>,
): Promise<T> {
  return withWorker({ connection: temporal.workerConnection, activities }, async (taskQueue) =>
    fn(
      await temporal.client.workflow.start(masterUpgrade, {
        taskQueue,
        workflowId: `campaign-${taskQueue}`,
        args,
      }),
    ),
  );
}

const fleet = (...ips: string[]) => ips.map((ip) => controller(ip));

/** Runs a campaign that must be refused at start; returns its failure (type InvalidInput expected by callers). */
async function refusedCampaign(
  config: unknown,
  activities: ReturnType<typeof fakeActivities>['activities'],
  workflowExecutionTimeoutMs?: number,
): Promise<ApplicationFailure> {
  const err = await withWorker({ connection: temporal.workerConnection, activities }, (taskQueue) =>
    temporal.client.workflow
      .execute('masterUpgrade', {
        taskQueue,
        workflowId: `campaign-${taskQueue}`,
        args: [config],
        ...(workflowExecutionTimeoutMs ? { workflowExecutionTimeout: workflowExecutionTimeoutMs } : {}),
      })
      .catch((e: unknown) => e),
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  return (err as WorkflowFailedError).cause as ApplicationFailure;
}

test('verifies once per image, upgrades every target, reports untargeted controllers and unmatched selectors', async () => {
  const { activities } = fakeActivities();
  const inventory = [...fleet('10.1.4.1', '10.1.4.2', '10.1.5.1'), controller('10.1.6.1', 'A7005')];
  const config = campaignConfig(inventory, { autoboot: true }, ['10.1.4.0/24', '10.1.5.1', '10.9.9.9']);
  const summary = await withCampaign(activities, [config], async (handle) => {
    const summary = await handle.result();
    const status = await handle.query(upgradeStatusQuery);
    expect(status.controllers.find((c) => c.ip === '10.1.6.1')?.state).toBe('not-targeted');
    expect(status.phase).toBe('completed');
    // The child: deterministic ID, search attributes, readable summary.
    const child = await temporal.client.workflow
      .getHandle(controllerWorkflowId(handle.workflowId, '10.1.4.2'))
      .describe();
    expect(child.type).toBe('controllerUpgrade');
    expect(child.searchAttributes).toMatchObject({
      CiuCampaign: [handle.workflowId],
      CiuController: ['10.1.4.2'],
      CiuModel: ['A7210'],
      CiuState: ['upgraded'],
      CiuAttempts: [1],
    });
    expect(await child.staticSummary()).toBe('10.1.4.2 A7210 → 6.4.0.0 build 81234');
    return summary;
  });
  expect(summary.outcome).toBe('completed');
  expect(summary.counts).toEqual({ upgraded: 3 });
  expect(summary.unmatchedSelectors).toEqual(['10.9.9.9']);
  expect(activities.verifyImage).toHaveBeenCalledTimes(1);
  expect(activities.verifyImage.mock.calls[0]![0]).toMatchObject({
    models: ['A7210'],
    source: { credentialsRef: 'ftp-images' },
  });
  expect(activities.rebootController).toHaveBeenCalledTimes(3);
});

test('a failed verification dispatches no child and fails the campaign with a per-model report', async () => {
  const { activities } = fakeActivities({
    verifyImage: async (input) => {
      if (input.models.includes('A7005'))
        throw ApplicationFailure.nonRetryable(
          'image type 72xx does not fit model A7005',
          failureTypes.imageVerificationFailed,
        );
      return await fakeActivities().activities.verifyImage(input);
    },
  });
  const inventory = [...fleet('10.1.4.1'), controller('10.1.6.1', 'A7005')];
  const config = campaignConfig(inventory);
  config.profile.models.A7005 = {
    imageFile: 'ArubaOS_72xx_6.4.0.0_81234',
    server: { host: '127.0.0.1' },
    protocol: 'tftp',
  };
  const { err, status, children, details } = await withCampaign(activities, [config], async (handle) => {
    const err = await handle.result().catch((e: unknown) => e);
    const status = await handle.query(upgradeStatusQuery);
    const children = [];
    for await (const wf of temporal.client.workflow.list({
      query: `WorkflowType = 'controllerUpgrade' AND CiuCampaign = '${handle.workflowId}'`,
    }))
      children.push(wf.workflowId);
    const { currentDetails: details } = await handle.query<{ currentDetails: string }>(
      '__temporal_workflow_metadata',
    );
    return { err, status, children, details };
  });
  // Red in the Web UI and for `temporal workflow list`: nothing will happen until a corrected commit.
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const failure = (err as WorkflowFailedError).cause as ApplicationFailure;
  expect(failure.type).toBe('ImageVerificationFailed');
  expect(failure.message).toBe(
    'image verification failed, nothing dispatched: A7005 ArubaOS_72xx_6.4.0.0_81234: image type 72xx does not fit model A7005',
  );
  // The Web UI's "Current details" of the closed master say why and what to do.
  expect(details).toBe(
    '**Failed: image verification** — nothing dispatched. A7005 ArubaOS_72xx_6.4.0.0_81234: image type 72xx does not fit model A7005. Fix the image or the upgrade-profile, then `ciu write memory`.',
  );
  const [report] = failure.details as [Pick<CampaignSummary, 'verifications' | 'counts'>];
  expect(report.verifications).toEqual([
    expect.objectContaining({
      model: 'A7005',
      ok: false,
      errorType: 'ImageVerificationFailed',
      error: 'image type 72xx does not fit model A7005',
    }),
    expect.objectContaining({ model: 'A7210', ok: true, version: '6.4.0.0', build: 81234 }),
  ]);
  expect(report.counts).toEqual({ failed: 2 });
  expect(status.phase).toBe('verification-failed');
  expect(status.controllers.map((c) => [c.ip, c.state, c.lastError])).toEqual([
    ['10.1.4.1', 'failed', "not started: the campaign's image verification failed (A7005)"],
    [
      '10.1.6.1',
      'failed',
      'image not verified: ImageVerificationFailed: image type 72xx does not fit model A7005',
    ],
  ]);
  expect(children).toEqual([]);
  expect(activities.downloadImage).not.toHaveBeenCalled();
  expect(activities.inspectController).not.toHaveBeenCalled();
});

test('max-downloads=2 with 6 targets never has more than 2 downloads in flight', async () => {
  let inFlight = 0;
  let peak = 0;
  let started = 0;
  const { activities } = fakeActivities({
    // Each copy lasts until a second one runs beside it or every copy has started (at most 10 s, so
    // a master that allowed only one shows as a peak of 1 however loaded the machine is), then
    // 300 ms more, long enough for a third to show up if the master ever allowed it.
    downloadImage: async () => {
      inFlight++;
      started++;
      peak = Math.max(peak, inFlight);
      const until = Date.now() + 10_000;
      while (inFlight < 2 && started < 6 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 300));
      inFlight--;
      return { bytes: 4096 };
    },
  });
  const config = campaignConfig(
    fleet('10.1.4.1', '10.1.4.2', '10.1.4.3', '10.1.4.4', '10.1.4.5', '10.1.4.6'),
    { maxDownloads: 2 },
  );
  const summary = await withCampaign(activities, [config], (handle) => handle.result());
  expect(summary.counts).toEqual({ 'downloaded-reboot-required': 6 });
  expect(activities.downloadImage).toHaveBeenCalledTimes(6);
  expect(peak).toBe(2);
});

test("a child's download slot comes with its start, or it is queued with its start and granted one without asking; its messages cost no workflow task of their own, its look before the download runs inside its first one (a local activity), its copy takes one, and its end reaches the master as its result", async () => {
  const { activities } = fakeActivities();
  const config = campaignConfig(fleet('10.1.4.1', '10.1.4.2', '10.1.4.3'), { maxDownloads: 1 });
  const histories = await withCampaign(activities, [config], async (handle) => {
    expect((await handle.result()).counts).toEqual({ 'downloaded-reboot-required': 3 });
    return Promise.all(
      ['10.1.4.1', '10.1.4.2', '10.1.4.3'].map(async (ip) => {
        const child = temporal.client.workflow.getHandle(controllerWorkflowId(handle.workflowId, ip));
        return (await child.fetchHistory()).events ?? [];
      }),
    );
  });
  const shapes = histories.map((events) => {
    const tasks: string[][] = [[]];
    for (const e of events) {
      if (e.workflowTaskCompletedEventAttributes) tasks.push([]);
      const signal = e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName;
      if (signal) tasks.at(-1)!.push(signal);
      const activity = e.activityTaskScheduledEventAttributes?.activityType?.name;
      if (activity) tasks.at(-1)!.push(activity);
      if (e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
        tasks.at(-1)!.push('local look');
    }
    return tasks.filter((t) => t.length > 0);
  });
  // The look before the download (inspect and show storage) is one local activity in the child's first
  // workflow task, the copy and its check one activity. The first child got the only slot with its
  // start: no request; it reports its download, unawaited, in the task that looked.
  // No child reports its end: the master run that started it hears its result.
  expect(shapes[0]).toEqual([['local look', 'controllerUpdate', 'downloadAndVerifyImage']]);
  // The others were queued with their start (or got the slot free by then): no request; the grant
  // starts the download at once (the master shows it).
  const granted = [['local look'], ['downloadAndVerifyImage']];
  for (const shape of shapes.slice(1)) expect([granted, shapes[0]]).toContainEqual(shape);
  expect(shapes.slice(1)).toContainEqual(granted);
  expect(activities.inspectStorage).toHaveBeenCalledTimes(3);
  expect(activities.verifyImageOnController).toHaveBeenCalledTimes(3);
  for (const events of histories) {
    // CiuState 'pending' and CiuAttempts 0 came with the start: upserted again only when they change.
    const upserts = events
      .map((e) =>
        Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {})
          .filter((key) => key.startsWith('Ciu'))
          .sort(),
      )
      .filter((keys) => keys.length > 0);
    expect(upserts).toEqual([['CiuAttempts', 'CiuState'], ['CiuState']]);
  }
});

test('a child waiting for its retry window holds no download slot', async () => {
  const { activities } = fakeActivities({
    downloadImage: async (input) => {
      if (input.controller.ip === '10.1.4.1') throw downloadFailure();
      return { bytes: 4096 };
    },
  });
  const config = campaignConfig(fleet('10.1.4.1', '10.1.4.2', '10.1.4.3'), {
    maxDownloads: 1,
    retryInterval: '1h',
    quickTryBackoff: '100ms',
  });
  await withCampaign(activities, [config], async (handle) => {
    await eventually(async () => {
      const { counts } = await handle.query(upgradeStatusQuery);
      return counts['waiting-retry'] === 1 && counts['downloaded-reboot-required'] === 2;
    });
    const status = await handle.query(upgradeStatusQuery);
    expect(status.downloadSlots).toEqual({ inUse: 0, max: 1, waiting: 0 });
    const waiting = status.controllers.find((c) => c.ip === '10.1.4.1')!;
    expect(waiting).toMatchObject({ state: 'waiting-retry', attempts: 3 });
    expect(waiting.lastError).toMatch(/DownloadFailed/);
    expect(Date.parse(waiting.nextRetryAt!)).toBeGreaterThan(Date.now() + 50 * 60_000);
    await handle.signal(purgeTargetsSignal, 'all');
    const summary = await handle.result();
    expect(summary.counts).toEqual({ purged: 1, 'downloaded-reboot-required': 2 });
  });
});

test('purge by subnet stops only matching children, mid-wait and mid-download; purge all ends the campaign', async () => {
  let cancelledDownloads = 0;
  const { activities } = fakeActivities({
    downloadImage: async (input) => {
      if (input.controller.ip !== '10.1.4.2') throw downloadFailure();
      const ctx = Context.current();
      try {
        for (let bytes = 0; ; bytes += 1024) {
          ctx.heartbeat({ bytes, totalBytes: 1 << 30 });
          await ctx.sleep(100);
        }
      } catch (err) {
        if (ctx.cancellationSignal.aborted) cancelledDownloads++;
        throw err;
      }
    },
  });
  const config = campaignConfig(fleet('10.1.4.1', '10.1.4.2', '10.1.5.1', '10.1.5.2'), {
    retryInterval: '1h',
    quickTryBackoff: '100ms',
  });
  await withCampaign(activities, [config], async (handle) => {
    await eventually(async () => {
      const { controllers } = await handle.query(upgradeStatusQuery);
      const state = (ip: string) => controllers.find((c) => c.ip === ip)?.state;
      return (
        ['10.1.4.1', '10.1.5.1', '10.1.5.2'].every((ip) => state(ip) === 'waiting-retry') &&
        state('10.1.4.2') === 'downloading'
      );
    });
    await handle.signal(purgeTargetsSignal, ['10.1.4.0/24', '10.1.4.300', '10.9.0.0/16']);
    const purgedChildren = await Promise.all(
      ['10.1.4.1', '10.1.4.2'].map((ip) =>
        temporal.client.workflow
          .getHandle<typeof controllerUpgrade>(controllerWorkflowId(handle.workflowId, ip))
          .result(),
      ),
    );
    expect(purgedChildren.map((r) => r.state)).toEqual(['purged', 'purged']);
    expect(cancelledDownloads).toBe(1);
    const status = await handle.query(upgradeStatusQuery);
    expect(status.counts).toEqual({ purged: 2, 'waiting-retry': 2 });
    // A signal cannot be refused: selectors that did nothing are reported in the status instead.
    expect(status.ignoredPurges).toEqual([
      '"10.1.4.300": not an IPv4 address, CIDR subnet or all',
      '"10.9.0.0/16": matches no target of this campaign',
    ]);
    for (const ip of ['10.1.5.1', '10.1.5.2'])
      expect(
        (await temporal.client.workflow.getHandle(controllerWorkflowId(handle.workflowId, ip)).describe())
          .status.name,
      ).toBe('RUNNING');
    await handle.signal(purgeTargetsSignal, 'all');
    const summary = await handle.result();
    expect(summary.counts).toEqual({ purged: 4 });
  });
});

test('commitConfig: the same config twice changes nothing; added targets start, removed ones are cleared; bad config is rejected', async () => {
  const { activities } = fakeActivities({
    downloadImage: async () => {
      throw downloadFailure();
    },
  });
  const config = campaignConfig(
    fleet('10.1.4.1', '10.1.4.2', '10.1.4.3'),
    { retryInterval: '1h', quickTryBackoff: '100ms' },
    ['10.1.4.1', '10.1.4.2'],
  );
  await withCampaign(activities, [config], async (handle) => {
    await eventually(async () => (await handle.query(upgradeStatusQuery)).counts['waiting-retry'] === 2);
    // Defaults omitted or spelled out: the same config.
    const { autoboot: _a, maxDownloads: _m, quickTries: _q, partition: _p, ...shortProfile } = config.profile;
    expect(
      await handle.executeUpdate(commitConfigUpdate, { args: [{ ...config, profile: shortProfile }] }),
    ).toEqual({
      revision: 1,
      changed: false,
      added: [],
      removed: [],
    });
    const next: CampaignConfig = { ...config, targets: ['10.1.4.2', '10.1.4.3'] };
    expect(await handle.executeUpdate(commitConfigUpdate, { args: [next] })).toEqual({
      revision: 2,
      changed: true,
      added: ['10.1.4.3'],
      removed: ['10.1.4.1'],
    });
    const bad = { ...next, profile: { ...next.profile, maxDownloads: 0 } };
    const err = await handle.executeUpdate(commitConfigUpdate, { args: [bad] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(((err as WorkflowUpdateFailedError).cause as Error).message).toBe(
      'profile.maxDownloads must be >= 1',
    );
    await eventually(async () => (await handle.query(upgradeStatusQuery)).counts['waiting-retry'] === 2);
    const status = await handle.query(upgradeStatusQuery);
    expect(status.revision).toBe(2);
    expect(status.controllers.map((c) => [c.ip, c.state])).toEqual([
      ['10.1.4.1', 'purged'],
      ['10.1.4.2', 'waiting-retry'],
      ['10.1.4.3', 'waiting-retry'],
    ]);
    // Targeted again: a new child under the same deterministic ID, after the purged one closed.
    expect(await handle.executeUpdate(commitConfigUpdate, { args: [{ ...next, targets: ['all'] }] })).toEqual(
      {
        revision: 3,
        changed: true,
        added: ['10.1.4.1'],
        removed: [],
      },
    );
    await eventually(async () => (await handle.query(upgradeStatusQuery)).counts['waiting-retry'] === 3);
    await handle.signal(purgeTargetsSignal, 'all');
    const summary = await handle.result();
    expect(summary.counts).toEqual({ purged: 3 });
    // Two children, three quick tries each.
    const tries = activities.downloadImage.mock.calls.filter(([d]) => d.controller.ip === '10.1.4.1');
    expect(tries.map(([d]) => d.attempt)).toEqual([1, 2, 3, 1, 2, 3]);
  });
});

test('bad input is refused by the workflow itself, naming the field', async () => {
  const { activities } = fakeActivities();
  const config = campaignConfig(fleet('10.1.4.1'), {}, ['10.1.4.0/24', '10.1.4.300']) as unknown as Record<
    string,
    unknown
  >;
  (config.profile as Record<string, unknown>).maxDownloads = 0;
  const cause = await refusedCampaign(config, activities);
  expect(cause.type).toBe('InvalidInput');
  expect(cause.message).toBe(
    'profile.maxDownloads must be >= 1; targets[1] "10.1.4.300" is not an IPv4 address or CIDR subnet',
  );
});

test('20,000 empty inventory entries end the campaign failed with a bounded InvalidInput message', async () => {
  const { activities } = fakeActivities();
  const config = {
    ...campaignConfig(fleet('10.1.4.1')),
    inventory: Array.from({ length: 20_000 }, () => ({})),
  };
  // Before the bound, the workflow task failed forever (TMPRL1103) and this never returned.
  const cause = await refusedCampaign(config, activities, 60_000);
  expect(cause.type).toBe('InvalidInput');
  expect(cause.message.length).toBeLessThanOrEqual(1_000);
  expect(cause.message).toMatch(/^inventory\[0\]\.ip is required; .*; and \d{5} more$/);
}, 90_000);

test('purgeTargetsUpdate refuses an invalid selector, naming it, and answers with what it purged', async () => {
  const { activities } = fakeActivities({
    downloadImage: async () => {
      throw downloadFailure();
    },
  });
  const config = campaignConfig(fleet('10.1.4.1', '10.1.4.2', '10.1.5.1'), {
    retryInterval: '1h',
    quickTryBackoff: '100ms',
  });
  await withCampaign(activities, [config], async (handle) => {
    await eventually(async () => (await handle.query(upgradeStatusQuery)).counts['waiting-retry'] === 3);
    for (const [selectors, named] of [
      ['garbage; reload', 'selector "garbage; reload" is not an IPv4 address, a CIDR subnet or all'],
      [42, 'selector 42 must be a string: an IPv4 address, a CIDR subnet or all'],
      [null, 'selector null must be a string: an IPv4 address, a CIDR subnet or all'],
    ] as const) {
      const err = await handle
        .executeUpdate(purgeTargetsUpdate, { args: [selectors as unknown as string] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(((err as WorkflowUpdateFailedError).cause as Error).message).toBe(`purge refused: ${named}`);
    }
    expect((await handle.query(upgradeStatusQuery)).counts).toEqual({ 'waiting-retry': 3 });
    expect(
      await handle.executeUpdate(purgeTargetsUpdate, { args: [['10.1.4.0/24', '10.9.0.0/16']] }),
    ).toEqual({ purged: ['10.1.4.1', '10.1.4.2'], matchingNoTarget: ['10.9.0.0/16'] });
    expect(await handle.executeUpdate(purgeTargetsUpdate, { args: ['all'] })).toEqual({
      purged: ['10.1.5.1'],
      matchingNoTarget: [],
    });
    expect((await handle.result()).counts).toEqual({ purged: 3 });
  });
});

test('a secret in the input is refused before it can spread', async () => {
  const { activities } = fakeActivities();
  const config = campaignConfig(fleet('10.1.4.1')) as unknown as {
    profile: { models: { A7210: Record<string, unknown> } };
  };
  config.profile.models.A7210.password = 'hunter2';
  const err = await withWorker({ connection: temporal.workerConnection, activities }, (taskQueue) =>
    temporal.client.workflow
      .execute('masterUpgrade', { taskQueue, workflowId: `campaign-${taskQueue}`, args: [config] })
      .catch((e: unknown) => e),
  );
  const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
  expect(cause.type).toBe('InvalidInput');
  expect(cause.message).toMatch(/^profile\.models\.A7210\.password is not accepted: .*use credentialsRef/);
  expect(cause.message).not.toContain('hunter2');
});

test('the master continues as new with its state when its history grows, and still finishes every target', async () => {
  const { activities } = fakeActivities();
  const ips = Array.from({ length: 20 }, (_, i) => `10.1.7.${i + 1}`);
  const config = campaignConfig(fleet(...ips), { maxDownloads: 5 });
  const { summary, runs } = await withCampaign(
    activities,
    [config, undefined, { historyLimit: 50 }],
    async (handle) => {
      const summary = await handle.result();
      let runs = 0;
      for (let runId: string | undefined = handle.firstExecutionRunId; runId; runs++) {
        const history = await temporal.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
        runId =
          history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ??
          undefined;
      }
      return { summary, runs };
    },
  );
  expect(summary.counts).toEqual({ 'downloaded-reboot-required': 20 });
  expect(runs).toBeGreaterThan(1);
});

test('a commit that adds targets whose image fails verification marks only those failed', async () => {
  const { activities } = fakeActivities({
    verifyImage: async (input) => {
      if (input.models.includes('A7005'))
        throw ApplicationFailure.nonRetryable('bad magic 0x00000000', failureTypes.imageVerificationFailed);
      return targetImage;
    },
    downloadImage: async () => {
      throw downloadFailure();
    },
  });
  const config = campaignConfig(
    [controller('10.1.4.1'), controller('10.1.6.1', 'A7005')],
    { retryInterval: '1h', quickTryBackoff: '100ms' },
    ['10.1.4.1'],
  );
  await withCampaign(activities, [config], async (handle) => {
    await eventually(async () => (await handle.query(upgradeStatusQuery)).counts['waiting-retry'] === 1);
    const next: CampaignConfig = {
      ...config,
      profile: {
        ...config.profile,
        models: {
          ...config.profile.models,
          A7005: { imageFile: 'ArubaOS_70xx.ari', server: { host: '127.0.0.1' }, protocol: 'tftp' },
        },
      },
      targets: ['all'],
    };
    expect(await handle.executeUpdate(commitConfigUpdate, { args: [next] })).toMatchObject({
      changed: true,
      added: ['10.1.6.1'],
    });
    await eventually(async () => (await handle.query(upgradeStatusQuery)).counts.failed === 1);
    const status = await handle.query(upgradeStatusQuery);
    expect(status.controllers.find((c) => c.ip === '10.1.6.1')).toMatchObject({
      state: 'failed',
      lastError: 'image not verified: ImageVerificationFailed: bad magic 0x00000000',
    });
    expect(status.verifications).toEqual([
      expect.objectContaining({ model: 'A7005', ok: false }),
      expect.objectContaining({ model: 'A7210', ok: true }),
    ]);
    expect(status.controllers.find((c) => c.ip === '10.1.4.1')?.state).toBe('waiting-retry');
    await handle.signal(purgeTargetsSignal, '10.1.4.1');
    const summary = await handle.result();
    expect(summary.counts).toEqual({ failed: 1, purged: 1 });
  });
});

test('an image server that is unreachable for a while delays verification, it does not end the campaign', async () => {
  let calls = 0;
  let firstCall: () => void = () => undefined;
  const firstCallMade = new Promise<void>((resolve) => (firstCall = resolve));
  const { activities } = fakeActivities({
    verifyImage: async () => {
      firstCall();
      if (++calls <= 2)
        throw ApplicationFailure.retryable(
          'connect ECONNREFUSED 127.0.0.1:2121',
          failureTypes.imageServerUnreachable,
        );
      return targetImage;
    },
  });
  const summary = await withCampaign(activities, [campaignConfig(fleet('10.1.4.1'))], async (handle) => {
    await firstCallMade;
    const status = await handle.query(upgradeStatusQuery);
    expect(status.phase).toBe('verifying');
    expect(status.counts).toEqual({ 'waiting-verification': 1 });
    return handle.result();
  });
  expect(calls).toBe(3);
  expect(summary.outcome).toBe('completed');
  expect(summary.counts).toEqual({ 'downloaded-reboot-required': 1 });
});

test('a campaign whose image server a controller cannot be told to use is refused at start, naming the field', async () => {
  const { activities } = fakeActivities();
  // ArubaOS's `copy ftp:` has no port clause: an FTP server on 2121 cannot be reached by arubaos controllers.
  const config = campaignConfig(fleet('10.1.4.1'));
  config.profile.models.A7210!.server.port = 2121;
  const cause = await refusedCampaign(config, activities);
  expect(cause.type).toBe('InvalidInput');
  expect(cause.message).toMatch(/^profile\.models\.A7210\.server\.port must be 21/);
  expect(activities.verifyImage).not.toHaveBeenCalled();
}, 90_000);
