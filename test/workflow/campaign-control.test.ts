import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { failureTypes } from '../../src/domain/errors';
import type { CampaignStatus } from '../../src/domain/status';
import type { CampaignConfig } from '../../src/domain/types';
import type { UpgradeActivities } from '../../activities/types';
import {
  controllerWorkflowId,
  masterUpgrade,
  pauseCampaignUpdate,
  resumeCampaignUpdate,
  retryTargetsUpdate,
  upgradeStatusQuery,
} from '../../workflows';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCiu, type CiuRun } from '../fixtures/ciu';
import { eventually } from '../fixtures/eventually';
import { withWorker } from '../fixtures/worker';
import { useTimeSkippingServer } from './time-skipping-server';
import { campaignConfig, controller, factsFor, fakeActivities, type CallRecord } from './fake-activities';

// masterUpgrade with its children under the time-skipping server: soak times of an hour pass in
// moments, and every activity is a typed fake recording the server's clock.
let env: TestWorkflowEnvironment;
useTimeSkippingServer((started) => (env = started));

const hour = 3_600_000;
const fleet = (n: number) => Array.from({ length: n }, (_, i) => controller(`10.1.4.${i + 1}`));
let campaigns = 0;

type Master = WorkflowHandle<typeof masterUpgrade>;

async function withCampaign<T>(
  activities: object,
  config: CampaignConfig,
  fn: (handle: Master) => Promise<T>,
): Promise<T> {
  return withWorker({ connection: env.nativeConnection, activities }, async (taskQueue) =>
    fn(
      await env.client.workflow.start(masterUpgrade, {
        taskQueue,
        workflowId: `control-${++campaigns}-${Date.now()}`,
        args: [config],
      }),
    ),
  );
}

function status(handle: Master): Promise<CampaignStatus> {
  return handle.query(upgradeStatusQuery);
}

async function until(
  handle: Master,
  what: string,
  ok: (s: CampaignStatus) => boolean,
): Promise<CampaignStatus> {
  let last: CampaignStatus | undefined;
  return eventually(
    async () => {
      last = await status(handle);
      return ok(last) && last;
    },
    { what: () => `${what}; last status ${JSON.stringify(last)}`, timeoutMs: 60_000, intervalMs: 100 },
  );
}

function stateOf(s: CampaignStatus, ip: string) {
  return s.controllers.find((c) => c.ip === ip)?.state;
}

async function campaignStateAttribute(handle: Master): Promise<unknown> {
  return (await handle.describe()).searchAttributes.CiuCampaignState;
}

const downloadsOf = (calls: CallRecord[], ip: string) =>
  calls.filter((c) => c.name === 'downloadImage' && c.ip === ip);

test('waves: the canary soaks an hour; two failures exceed wave 2 budget and halt the campaign; resume continues it', async () => {
  const failing = new Set(['10.1.4.2', '10.1.4.3']);
  // 10.1.4.4's download ends only once the campaign is halted: its reload is then held until resume.
  let finishDownload: () => void = () => undefined;
  const heldDownload = new Promise<void>((resolve) => (finishDownload = resolve));
  const { activities, calls } = fakeActivities({
    downloadImage: async (input) => {
      if (failing.has(input.controller.ip))
        throw ApplicationFailure.nonRetryable('not enough flash', failureTypes.flashFull);
      if (input.controller.ip === '10.1.4.4') await heldDownload;
      return { bytes: 4096 };
    },
  });
  const config = campaignConfig(fleet(6), {
    autoboot: true,
    waves: [
      { name: 'canary', count: 1, soak: '1h' },
      { name: 'early', count: 3, maxFailures: 1 },
      { name: 'rest' },
    ],
  });
  await withCampaign(activities, config, async (handle) => {
    const soaking = await until(
      handle,
      'the canary upgraded, wave early soaking',
      (s) => s.waves?.[1]?.state === 'soaking',
    );
    expect(soaking.controllers.map((c) => [c.ip, c.wave, c.state])).toEqual([
      ['10.1.4.1', 'canary', 'upgraded'],
      ['10.1.4.2', 'early', 'waiting-verification'],
      ['10.1.4.3', 'early', 'waiting-verification'],
      ['10.1.4.4', 'early', 'waiting-verification'],
      ['10.1.4.5', 'rest', 'waiting-verification'],
      ['10.1.4.6', 'rest', 'waiting-verification'],
    ]);
    // Just past the soak: time skipping stops while 10.1.4.4's download is held, so more would be waited for real.
    await env.sleep(hour + 1_000);
    await until(handle, 'the campaign halted', (s) => s.state === 'halted');
    finishDownload();
    const halted = await until(
      handle,
      '10.1.4.4 downloaded, its reload held by the halt',
      (s) => stateOf(s, '10.1.4.4') === 'waiting-peer',
    );
    expect(halted.halt?.reason).toBe(
      'wave "early": 2 failure(s) exceed max-failures 1 (10.1.4.2 Failed, 10.1.4.3 Failed)',
    );
    expect(halted.waves?.map((w) => [w.name, w.state, w.final, w.failures])).toEqual([
      ['canary', 'done', 1, 0],
      ['early', 'running', 2, 2],
      ['rest', 'waiting', 0, 0],
    ]);
    expect(calls.filter((c) => c.name === 'rebootController').map((c) => c.ip)).toEqual(['10.1.4.1']);
    // Wave early started an hour (the soak time) after the canary's reboot, not before.
    const canaryReboot = calls.find((c) => c.name === 'rebootController' && c.ip === '10.1.4.1')!.at;
    expect(downloadsOf(calls, '10.1.4.2')[0]!.at - canaryReboot).toBeGreaterThanOrEqual(hour);
    // Halted: the rest never started.
    expect(downloadsOf(calls, '10.1.4.5')).toEqual([]);
    expect([stateOf(halted, '10.1.4.5'), stateOf(halted, '10.1.4.6')]).toEqual([
      'waiting-verification',
      'waiting-verification',
    ]);
    await eventually(
      async () => (await campaignStateAttribute(handle)) && (await campaignStateAttribute(handle)),
    );
    expect(await campaignStateAttribute(handle)).toEqual(['halted']);
    const { currentDetails } = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
    expect(currentDetails).toContain('**Halted**: wave "early": 2 failure(s) exceed max-failures 1');

    const resumed = await handle.executeUpdate(resumeCampaignUpdate, { args: [{}] });
    expect(resumed.clearedHalt).toBe(halted.halt?.reason);
    const summary = await handle.result();
    expect(summary.counts).toEqual({ upgraded: 4, failed: 2 });
    expect(await campaignStateAttribute(handle)).toEqual(['completed']);
  });
});

/**
 * Downloads that hold until `release()` (those of `held` controllers; default all), heartbeating so
 * a cancellation reaches them; records the ones cancelled and the ones completed.
 */
function heldDownloads(
  held: (ip: string) => boolean = () => true,
  overrides: Partial<UpgradeActivities> = {},
) {
  let open = false;
  const cancelled: string[] = [];
  const completed: string[] = [];
  const { activities, calls } = fakeActivities({
    ...overrides,
    downloadImage: async (input) => {
      const ctx = Context.current();
      try {
        while (!open && held(input.controller.ip)) {
          ctx.heartbeat();
          await ctx.sleep(50);
        }
      } catch (err) {
        cancelled.push(input.controller.ip);
        throw err;
      }
      completed.push(input.controller.ip);
      return { bytes: 4096 };
    },
  });
  return { activities, calls, cancelled, completed, release: () => (open = true) };
}

const downloading = (s: CampaignStatus) =>
  s.controllers.filter((c) => c.state === 'downloading').map((c) => c.ip);

test('pause mid-wave: the downloads in flight finish, the waiting ones get no slot until resume', async () => {
  const held = heldDownloads();
  await withCampaign(held.activities, campaignConfig(fleet(4), { maxDownloads: 2 }), async (handle) => {
    const before = await until(
      handle,
      'two downloads in flight',
      (s) => downloading(s).length === 2 && s.downloadSlots.waiting === 2,
    );
    const paused = await handle.executeUpdate(pauseCampaignUpdate, { args: [{}] });
    expect(paused).toMatchObject({ campaign: true, aborting: [] });
    held.release();
    const after = await until(
      handle,
      'the two downloads finished',
      (s) => (s.counts['downloaded-reboot-required'] ?? 0) === 2,
    );
    expect(after.state).toBe('paused');
    expect(after.downloadSlots).toEqual({ inUse: 0, max: 2, waiting: 2 });
    expect(after.controllers.every((c) => c.paused)).toBe(true);
    for (const c of after.controllers)
      expect(c.state).toBe(downloading(before).includes(c.ip) ? 'downloaded-reboot-required' : 'pending');
    expect(held.activities.downloadImage).toHaveBeenCalledTimes(2);
    expect(held.cancelled).toEqual([]);
    expect(await campaignStateAttribute(handle)).toEqual(['paused']);
    await handle.executeUpdate(resumeCampaignUpdate, { args: [{}] });
    const summary = await handle.result();
    expect(summary.counts).toEqual({ 'downloaded-reboot-required': 4 });
    expect(held.activities.downloadImage).toHaveBeenCalledTimes(4);
  });
});

test('pause with abortDownloads: the downloads in flight stop, the controllers wait (not purged) and continue on resume', async () => {
  const held = heldDownloads();
  await withCampaign(held.activities, campaignConfig(fleet(3), { maxDownloads: 2 }), async (handle) => {
    const before = await until(handle, 'two downloads in flight', (s) => downloading(s).length === 2);
    const paused = await handle.executeUpdate(pauseCampaignUpdate, { args: [{ abortDownloads: true }] });
    expect(paused.aborting.sort()).toEqual(downloading(before).sort());
    const after = await until(
      handle,
      'the downloads stopped',
      (s) => s.downloadSlots.inUse === 0 && s.controllers.every((c) => c.state === 'pending'),
    );
    expect(held.cancelled.sort()).toEqual(downloading(before).sort());
    for (const ip of downloading(before))
      expect(after.controllers.find((c) => c.ip === ip)).toMatchObject({
        state: 'pending',
        attempts: 1,
        lastError: 'download aborted by the operator (pause); waits to resume',
      });
    held.release();
    await handle.executeUpdate(resumeCampaignUpdate, { args: [{}] });
    const summary = await handle.result();
    expect(summary.counts).toEqual({ 'downloaded-reboot-required': 3 });
    // The aborted ones downloaded again from the start: their second attempt.
    for (const ip of downloading(before))
      expect(summary.controllers.find((c) => c.ip === ip)?.attempts).toBe(2);
  });
});

test('pause with abortDownloads while a granted controller still looks at itself: no copy completes before resume; the slot goes back; it downloads after resume', async () => {
  let lookHeld = true;
  const { activities, calls, completed, release } = heldDownloads((ip) => ip === '10.1.4.2', {
    inspectController: async (c) => {
      while (c.ip === '10.1.4.2' && lookHeld) await new Promise((resolve) => setTimeout(resolve, 50));
      return factsFor();
    },
  });
  await withCampaign(activities, campaignConfig(fleet(2), { maxDownloads: 1 }), async (handle) => {
    // 10.1.4.1 starts with the free slot and finishes; 10.1.4.2, queued with its start, gets the slot while it looks.
    await until(handle, 'the slot granted to the controller still looking', (s) =>
      s.controllers.some((c) => c.ip === '10.1.4.2' && c.state === 'downloading'),
    );
    const paused = await handle.executeUpdate(pauseCampaignUpdate, { args: [{ abortDownloads: true }] });
    expect(paused.aborting).toEqual(['10.1.4.2']);
    lookHeld = false;
    // The look is a local activity in the child's workflow task, so the abort reaches the child when
    // that task ends: before its copy was scheduled (a look longer than the task's heartbeat), or
    // with the copy just begun, which the abort cancels. Either way no copy completes.
    const after = await until(
      handle,
      'the slot given back',
      (s) => s.downloadSlots.inUse === 0 && stateOf(s, '10.1.4.2') === 'pending',
    );
    expect(after.controllers.find((c) => c.ip === '10.1.4.2')).toMatchObject({
      lastError: 'download aborted by the operator (pause); waits to resume',
    });
    release();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(completed).toEqual(['10.1.4.1']);
    expect(stateOf(await handle.query(upgradeStatusQuery), '10.1.4.2')).toBe('pending');
    await handle.executeUpdate(resumeCampaignUpdate, { args: [{}] });
    const summary = await handle.result();
    expect(summary.counts).toEqual({ 'downloaded-reboot-required': 2 });
    expect(completed).toEqual(['10.1.4.1', '10.1.4.2']);
    expect(downloadsOf(calls, '10.1.4.2').length).toBeLessThanOrEqual(2);
  });
});

test('retry: a failed canary starts again in the same campaign, attempts and error history kept', async () => {
  let canaryTries = 0;
  const { activities, calls } = fakeActivities({
    downloadImage: async (input) => {
      if (input.controller.ip === '10.1.4.1' && ++canaryTries === 1)
        throw ApplicationFailure.nonRetryable('not enough flash: need 4096 bytes', failureTypes.flashFull);
      return { bytes: 4096 };
    },
  });
  const config = campaignConfig(fleet(3), {
    autoboot: true,
    waves: [{ name: 'canary', count: 1, maxFailures: 0 }, { name: 'rest' }],
  });
  await withCampaign(activities, config, async (handle) => {
    await until(handle, 'the canary failed and halted the campaign', (s) => s.state === 'halted');
    const bad = await handle
      .executeUpdate(retryTargetsUpdate, { args: [{ selectors: ['10.1.4.300'] }] })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((bad as WorkflowUpdateFailedError).cause?.message)).toBe(
      'retryTargets refused: retryTargets.selectors[0] "10.1.4.300" is not an IPv4 address, a CIDR subnet or all',
    );
    const retried = await handle.executeUpdate(retryTargetsUpdate, { args: [{ selectors: ['10.1.4.1'] }] });
    expect(retried).toMatchObject({
      retried: ['10.1.4.1'],
      heldBy: expect.stringMatching(/^campaign halted/),
    });
    await handle.executeUpdate(resumeCampaignUpdate, { args: [{}] });
    const summary = await handle.result();
    expect(summary.counts).toEqual({ upgraded: 3 });
    const final = await status(handle);
    expect(final.controllers[0]).toMatchObject({
      ip: '10.1.4.1',
      state: 'upgraded',
      attempts: 2,
      previousErrors: ['Failed: FlashFull: not enough flash: need 4096 bytes'],
    });
    const child = await env.client.workflow
      .getHandle(controllerWorkflowId(handle.workflowId, '10.1.4.1'))
      .describe();
    expect(child.searchAttributes).toMatchObject({ CiuState: ['upgraded'], CiuAttempts: [2] });
    expect(downloadsOf(calls, '10.1.4.1')).toHaveLength(2);
    // The rest waited for the retried canary.
    const canaryDone = calls.filter((c) => c.name === 'rebootController' && c.ip === '10.1.4.1')[0]!.at;
    expect(downloadsOf(calls, '10.1.4.2')[0]!.at).toBeGreaterThanOrEqual(canaryDone);
  });
});

/** `ciu …` in this process against the time-skipping server. */
function ciu(configDir: string, ...args: string[]): Promise<CiuRun> {
  return runCiu(['--address', env.address, '--config-dir', configDir, ...args]);
}

test('ciu upgrade pause|resume and upgrade target retry: what each answers, and bad requests refused by field', async () => {
  const configDir = mkdtempSync(join(tmpdir(), 'ciu-control-cli-'));
  let open = false;
  let failedOnce = false;
  const { activities } = fakeActivities({
    downloadImage: async (input) => {
      if (input.controller.ip === '10.1.4.3' && !failedOnce) {
        failedOnce = true;
        throw ApplicationFailure.nonRetryable('not enough flash: need 4096 bytes', failureTypes.flashFull);
      }
      const ctx = Context.current();
      while (!open) {
        ctx.heartbeat();
        await ctx.sleep(50);
      }
      return { bytes: 4096 };
    },
  });
  try {
    await withCampaign(activities, campaignConfig(fleet(3), { maxDownloads: 3 }), async (handle) => {
      const campaign = handle.workflowId;
      await until(
        handle,
        '.1 and .2 downloading, .3 failed',
        (s) => downloading(s).length === 2 && stateOf(s, '10.1.4.3') === 'failed',
      );

      const bad = await ciu(configDir, 'upgrade', 'pause', '10.1.4.300', '--campaign', campaign);
      expect(bad.code).toBe(2);
      expect(bad.err).toContain(
        'pauseCampaign refused: pauseCampaign.selectors[0] "10.1.4.300" is not an IPv4 address, a CIDR subnet or all',
      );
      expect((await ciu(configDir, 'upgrade', 'target', 'retry', '--campaign', campaign)).code).toBe(2);
      // The worker's validators say the same to any other client.
      for (const [args, message] of [
        [
          { abortDownloads: 'yes' },
          'pauseCampaign refused: pauseCampaign.abortDownloads must be true or false',
        ],
        [{ selectors: [] }, 'pauseCampaign refused: pauseCampaign.selectors must name at least one selector'],
        [{ all: true }, 'pauseCampaign refused: pauseCampaign.all is not a known field'],
      ] as const) {
        const refused = await handle
          .executeUpdate(pauseCampaignUpdate, { args: [args as never] })
          .catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
        expect((refused as WorkflowUpdateFailedError).cause?.message).toBe(message);
      }

      const paused = await ciu(
        configDir,
        'upgrade',
        'pause',
        '10.1.4.1',
        '--abort-downloads',
        '--campaign',
        campaign,
      );
      expect(paused).toEqual({
        code: 0,
        out: `Campaign ${campaign}: paused 10.1.4.1; stopping the downloads of 10.1.4.1\n`,
        err: '',
      });
      await until(handle, '.1 aborted', (s) => stateOf(s, '10.1.4.1') === 'pending');
      const shown = await ciu(configDir, 'show', 'upgrade', 'status', '--campaign', campaign, '--wide');
      expect(shown.code).toBe(0);
      expect(shown.out).toContain('Paused: 10.1.4.1 — `ciu upgrade resume <selector>`');
      expect(shown.out).toMatch(/│ 10\.1\.4\.1 .*│ Pending \(paused\) +│ 1 +│/);
      expect(shown.out.trimEnd().split('\n').at(-1)).toBe('1 Pending, 1 Downloading, 1 Failed — 1 paused');

      const retried = await ciu(
        configDir,
        'upgrade',
        'target',
        'retry',
        '10.1.4.0/24',
        '--campaign',
        campaign,
      );
      expect(retried).toEqual({
        code: 0,
        out: `Campaign ${campaign}: retrying 10.1.4.3\nLeft alone: 10.1.4.1 (pending), 10.1.4.2 (downloading)\n`,
        err: '',
      });
      const resumed = await ciu(
        configDir,
        'upgrade',
        'resume',
        '10.1.4.1',
        '10.9.0.0/16',
        '--campaign',
        campaign,
      );
      expect(resumed).toEqual({
        code: 0,
        out: `Campaign ${campaign}: resumed 10.1.4.1; matching no target: 10.9.0.0/16\n`,
        err: '',
      });
      open = true;
      const summary = await handle.result();
      expect(summary.counts).toEqual({ 'downloaded-reboot-required': 3 });
      expect((await status(handle)).controllers.map((c) => [c.ip, c.attempts, c.previousErrors])).toEqual([
        ['10.1.4.1', 2, undefined],
        ['10.1.4.2', 1, undefined],
        ['10.1.4.3', 2, ['Failed: FlashFull: not enough flash: need 4096 bytes']],
      ]);
    });
  } finally {
    rmSync(configDir, { recursive: true, force: true });
  }
});

test('a halt holds the reload of an ungrouped controller whose image is already on it; resume lets it reboot', async () => {
  let finishDownload: () => void = () => undefined;
  const slowDownload = new Promise<void>((resolve) => (finishDownload = resolve));
  const { activities, calls } = fakeActivities({
    downloadImage: async (input) => {
      if (input.controller.ip === '10.1.4.1')
        throw ApplicationFailure.nonRetryable('not enough flash', failureTypes.flashFull);
      await slowDownload;
      return { bytes: 4096 };
    },
  });
  const config = campaignConfig(fleet(2), { autoboot: true, maxDownloads: 2, maxFailures: 0 });
  await withCampaign(activities, config, async (handle) => {
    await until(handle, 'the campaign halted by 10.1.4.1', (s) => s.state === 'halted');
    finishDownload();
    const held = await until(
      handle,
      '10.1.4.2 downloaded and waiting for its reboot permit',
      (s) => stateOf(s, '10.1.4.2') === 'waiting-peer',
    );
    expect(held.state).toBe('halted');
    // Still held a while later: nothing but a resume (or a purge) moves it on.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(stateOf(await status(handle), '10.1.4.2')).toBe('waiting-peer');
    expect(calls.filter((c) => c.name === 'rebootController')).toEqual([]);

    await handle.executeUpdate(resumeCampaignUpdate, { args: [{}] });
    const summary = await handle.result();
    expect(summary.controllers.map((c) => [c.ip, c.state])).toEqual([
      ['10.1.4.1', 'failed'],
      ['10.1.4.2', 'upgraded'],
    ]);
    expect(calls.filter((c) => c.name === 'rebootController').map((c) => c.ip)).toEqual(['10.1.4.2']);
  });
});
