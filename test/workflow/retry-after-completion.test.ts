import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import {
  WorkflowFailedError,
  type WorkflowHandleWithFirstExecutionRunId,
  type WorkflowHandle,
} from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { runCli } from '../../src/cli/program';
import { configHash, configHashMemo } from '../../src/cli/commit';
import { failureTypes } from '../../src/domain/errors';
import type { CampaignStatus } from '../../src/domain/status';
import type { CampaignConfig } from '../../src/domain/types';
import { masterUpgrade, resumeCampaignUpdate, upgradeStatusQuery } from '../../workflows';
import { eventually } from '../fixtures/eventually';
import { withWorker } from '../fixtures/worker';
import { campaignConfig, controller, fakeActivities } from './fake-activities';
import { useTimeSkippingServer } from './time-skipping-server';

// A completed campaign takes no Update: `ciu upgrade target retry` starts a new run of it, seeded from
// the completed run's result, under the time-skipping server with typed fake activities.
let env: TestWorkflowEnvironment;
useTimeSkippingServer((started) => (env = started));

const fleet = (n: number) => Array.from({ length: n }, (_, i) => controller(`10.1.4.${i + 1}`));
const flashFull = 'not enough flash: need 4096 bytes';

async function ciu(
  configDir: string,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(['--address', env.address, '--config-dir', configDir, ...args], {
    io: { out: (t) => (out += t), err: (t) => (err += t) },
    env: {},
  });
  return { code, out, err };
}

/** Fake activities under which `failing` find their flash full on their first download only. */
function fullOnFirstDownload(...failing: string[]) {
  const tries = new Map<string, number>();
  return fakeActivities({
    downloadImage: async (input) => {
      const ip = input.controller.ip;
      tries.set(ip, (tries.get(ip) ?? 0) + 1);
      if (failing.includes(ip) && tries.get(ip) === 1)
        throw ApplicationFailure.nonRetryable(flashFull, failureTypes.flashFull);
      return { bytes: 4096 };
    },
  });
}

/** A campaign `config` started on a worker with `activities`, and a config directory for `ciu`. */
async function withCampaign(
  name: string,
  activities: object,
  config: CampaignConfig,
  fn: (
    first: WorkflowHandleWithFirstExecutionRunId<typeof masterUpgrade>,
    configDir: string,
  ) => Promise<void>,
): Promise<void> {
  const configDir = mkdtempSync(join(tmpdir(), `ciu-${name}-`));
  try {
    await withWorker({ connection: env.nativeConnection, activities }, async (taskQueue) =>
      fn(
        await env.client.workflow.start(masterUpgrade, {
          taskQueue,
          workflowId: `${name}-${Date.now()}`,
          args: [config],
        }),
        configDir,
      ),
    );
  } finally {
    rmSync(configDir, { recursive: true, force: true });
  }
}

function rows(s: CampaignStatus) {
  return s.controllers.map((c) => [c.ip, c.state, c.attempts, c.lastError, c.previousErrors]);
}

test('ciu upgrade target retry after the campaign completed: a new run of it retries only the selected failed controllers, counters and causes kept', async () => {
  // .2 and .3 find their flash full on their first download only.
  const { activities, calls } = fullOnFirstDownload('10.1.4.2', '10.1.4.3');
  const config = campaignConfig(fleet(3), { autoboot: true, maxFailures: 2 });
  await withCampaign('retry-completed', activities, config, async (first, configDir) => {
    const campaign = first.workflowId;
    expect((await first.result()).counts).toEqual({ upgraded: 1, failed: 2 });

    const nothing = await ciu(configDir, 'upgrade', 'target', 'retry', '10.1.4.1', '--campaign', campaign);
    expect(nothing).toEqual({
      code: 2,
      out: '',
      err: `ciu: nothing to retry in campaign ${campaign}: 10.1.4.1 is Upgraded (only Failed, Pre-check failed, Rolled back, Purged controllers start again)\n`,
    });
    expect((await env.client.workflow.getHandle(campaign).describe()).runId).toBe(first.firstExecutionRunId);

    const before = calls.length;
    const retried = await ciu(
      configDir,
      'upgrade',
      'target',
      'retry',
      '10.1.4.1',
      '10.1.4.2',
      '10.9.0.0/16',
      '--campaign',
      campaign,
    );
    const second: WorkflowHandle<typeof masterUpgrade> = env.client.workflow.getHandle(campaign);
    const secondRun = (await second.describe()).runId;
    expect(retried).toEqual({
      code: 0,
      out: `Campaign ${campaign} had completed (run ${first.firstExecutionRunId}); run ${secondRun} retries 10.1.4.2, every other controller keeps its final state; matching no target: 10.9.0.0/16\nLeft alone: 10.1.4.1 (upgraded)\n`,
      err: '',
    });
    expect((await second.result()).counts).toEqual({ upgraded: 2, failed: 1 });
    expect(rows(await second.query(upgradeStatusQuery))).toEqual([
      ['10.1.4.1', 'upgraded', 1, undefined, undefined],
      ['10.1.4.2', 'upgraded', 2, undefined, [`Failed: FlashFull: ${flashFull}`]],
      ['10.1.4.3', 'failed', 1, `FlashFull: ${flashFull}`, undefined],
    ]);
    // Only the retried controller's device was touched again (the image check reads the image server).
    expect(new Set(calls.slice(before).map((c) => c.ip ?? 'image server'))).toEqual(
      new Set(['image server', '10.1.4.2']),
    );
    const described = await second.describe();
    expect(described.memo?.[configHashMemo]).toBe(configHash(config));
    expect(described.searchAttributes.CiuCampaignState).toEqual(['completed']);

    // The retry run's result seeds the next retry: .2's cause history goes on with it.
    const third = await ciu(configDir, 'upgrade', 'target', 'retry', 'all', '--campaign', campaign);
    expect(third.code).toBe(0);
    expect(third.out).toContain('retries 10.1.4.3, every other controller keeps its final state');
    expect(third.out).toContain('Left alone: 10.1.4.1 (upgraded), 10.1.4.2 (upgraded)');
    const last = env.client.workflow.getHandle(campaign);
    expect((await last.result()).counts).toEqual({ upgraded: 3 });
    expect(rows(await last.query(upgradeStatusQuery))).toEqual([
      ['10.1.4.1', 'upgraded', 1, undefined, undefined],
      ['10.1.4.2', 'upgraded', 2, undefined, [`Failed: FlashFull: ${flashFull}`]],
      ['10.1.4.3', 'upgraded', 2, undefined, [`Failed: FlashFull: ${flashFull}`]],
    ]);
    expect(calls.filter((c) => c.name === 'rebootController').map((c) => c.ip)).toEqual([
      '10.1.4.1',
      '10.1.4.2',
      '10.1.4.3',
    ]);
  });
});

test('masterUpgrade with options.retry from plain `temporal workflow start`: a bad field or a retry of nothing fails the run naming it, before any controller is touched', async () => {
  const { activities, calls } = fakeActivities();
  const config = campaignConfig(fleet(2));
  const previous = {
    campaign: 'elsewhere',
    outcome: 'completed',
    controllers: [
      { ip: '10.1.4.1', model: 'A7210', state: 'upgraded', attempts: 1 },
      { ip: '10.1.4.2', model: 'A7210', state: 'downloading', attempts: 1 },
    ],
  };
  const cases: Array<[string, unknown, string]> = [
    [
      'plain-a',
      { selectors: ['10.1.4.300'], previous },
      'retry.selectors[0] "10.1.4.300" is not an IPv4 address, a CIDR subnet or all; retry.previous.controllers[1].state "downloading" is not a final state',
    ],
    [
      'plain-b',
      { selectors: ['10.1.4.2'], previous: { ...previous, controllers: [previous.controllers[0]] } },
      'retry.previous.campaign is "elsewhere": the result of another campaign, not of plain-b',
    ],
    [
      'plain-c',
      {
        selectors: ['10.1.4.1'],
        previous: { ...previous, campaign: undefined, controllers: [previous.controllers[0]] },
      },
      'nothing to retry in campaign plain-c: 10.1.4.1 is Upgraded',
    ],
  ];
  await withWorker({ connection: env.nativeConnection, activities }, async (taskQueue) => {
    for (const [id, retry, message] of cases) {
      const handle = await env.client.workflow.start(masterUpgrade, {
        taskQueue,
        workflowId: id,
        args: [config, undefined, { retry: retry as never }],
      });
      const failure = await handle.result().catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      const cause = (failure as WorkflowFailedError).cause as ApplicationFailure;
      expect(cause.type).toBe(failureTypes.invalidInput);
      expect(cause.message).toContain(message);
    }
  });
  expect(calls).toEqual([]);
});

test('a budgeted campaign completed after a resume: its retry forgives the failures it leaves, so the retried controller is not held by them', async () => {
  const { activities } = fullOnFirstDownload('10.1.4.1', '10.1.4.2');
  // Any failure halts it; the operator resumes until it completes with .1 and .2 failed.
  const config = campaignConfig(fleet(3), { autoboot: true, maxFailures: 0 });
  await withCampaign('retry-budget', activities, config, async (first, configDir) => {
    const campaign = first.workflowId;
    const summary = await eventually(
      async () => {
        const s = await first.query(upgradeStatusQuery);
        if (s.state === 'halted') await first.executeUpdate(resumeCampaignUpdate, { args: [{}] });
        return s.phase === 'completed' && first.result();
      },
      { what: 'the campaign completed after resumes', timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(summary.counts).toEqual({ upgraded: 1, failed: 2 });

    expect(
      (await ciu(configDir, 'upgrade', 'target', 'retry', '10.1.4.2', '--campaign', campaign)).code,
    ).toBe(0);
    const retry = env.client.workflow.getHandle(campaign);
    // .1 stays failed: counted against max-failures 0 it would halt the retry run before .2 reboots.
    const done = await eventually(
      async () => {
        const s = await retry.query(upgradeStatusQuery);
        expect(s.state).not.toBe('halted');
        return s.phase === 'completed' && s;
      },
      { what: 'the retry run completed', timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(done.counts).toEqual({ upgraded: 2, failed: 1 });
  });
});

test('a campaign whose last run was terminated is not retried: `write memory` runs it again', async () => {
  const { activities } = fakeActivities();
  const config = campaignConfig(fleet(1), { startAt: '2099-01-01T00:00:00Z' });
  await withCampaign('retry-terminated', activities, config, async (handle, configDir) => {
    const campaign = handle.workflowId;
    await handle.terminate('operator stopped it');
    expect(await ciu(configDir, 'upgrade', 'target', 'retry', 'all', '--campaign', campaign)).toEqual({
      code: 1,
      out: '',
      err: `ciu: campaign ${campaign}'s last run (${handle.firstExecutionRunId}) ended TERMINATED: a retry needs a running or completed campaign; \`ciu write memory\` runs it again\n`,
    });
  });
});
