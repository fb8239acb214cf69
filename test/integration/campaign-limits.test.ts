import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { stringify as stringifyYaml } from 'yaml';
import { withClient } from '../../src/cli/client';
import { commitCampaign } from '../../src/cli/commit';
import { CliError } from '../../src/cli/exit-codes';
import { maxCampaignTargets, maxConfigBytes } from '../../src/domain/campaign-limits';
import { failureTypes } from '../../src/domain/errors';
import type { CampaignConfig } from '../../src/domain/types';
import type { LocalTemporal } from '../../devkit/stack';
import { runCiu } from '../fixtures/processes';
import { startMasterWithCli, startTestDevServer, startTestTemporal } from '../fixtures/temporal';
import { eventually } from '../fixtures/eventually';
import { withWorker } from '../fixtures/worker';
import { masterUpgrade, upgradeStatusQuery } from '../../workflows';
import { campaignConfig, controller, fakeActivities, installQuietRuntime } from '../workflow/fake-activities';

// A campaign larger than one master can carry is refused before it starts — by `ciu write memory`,
// and by masterUpgrade itself when started with plain `temporal workflow start` — instead of
// starting and wedging at its first continue-as-new. A request Temporal refuses comes back in
// Temporal's own words.

/** A valid config over `n` controllers (10.x.y.z, inert data), targeting all of them. */
function fleetConfig(n: number): CampaignConfig {
  const ips = Array.from(
    { length: n },
    (_, i) => `10.${200 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`,
  );
  return campaignConfig(ips.map((ip) => controller(ip)));
}

function stage(config: CampaignConfig, campaign: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ciu-limits-'));
  writeFileSync(join(dir, 'config.yaml'), stringifyYaml({ campaign, ...config }));
  return dir;
}

let temporal: LocalTemporal;

/** `temporal workflow start` of masterUpgrade with the config in the file `input`, as an operator types it. */
function startPlain(taskQueue: string, workflowId: string, input: string): Promise<void> {
  return startMasterWithCli(temporal.dev.address, taskQueue, workflowId, ['--input-file', input]);
}

beforeAll(async () => {
  installQuietRuntime();
  temporal = await startTestTemporal();
});

afterAll(() => temporal?.stop());

test('ciu write memory refuses a campaign over the target limit, naming the limit, and starts nothing', async () => {
  const dir = stage(fleetConfig(maxCampaignTargets + 1), 'too-big');
  try {
    const result = await runCiu(temporal.dev.address, dir, ['write', 'memory']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `targets match ${(maxCampaignTargets + 1).toLocaleString('en-US')} controllers, the limit is ${maxCampaignTargets.toLocaleString('en-US')} per campaign`,
    );
    await expect(temporal.client.workflow.getHandle('too-big').describe()).rejects.toBeInstanceOf(
      WorkflowNotFoundError,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ciu write memory refuses a config over the byte limit, naming its size and the limit, and starts nothing', async () => {
  // 18,000 inventory entries, 8 of them targeted: within the target limit, over the bytes a plain start can carry.
  const config = { ...fleetConfig(18_000), targets: ['10.200.0.0/29'] };
  const dir = stage(config, 'too-many-bytes');
  try {
    const result = await runCiu(temporal.dev.address, dir, ['write', 'memory']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      new RegExp(
        `the config is [\\d,]+ bytes as JSON \\(18,000 inventory entries\\), the limit is ${maxConfigBytes.toLocaleString('en-US')} bytes`,
      ),
    );
    await expect(temporal.client.workflow.getHandle('too-many-bytes').describe()).rejects.toBeInstanceOf(
      WorkflowNotFoundError,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a campaign at the target limit starts both ways (ciu write memory, plain temporal workflow start): each master validates and holds every target', async () => {
  const config = fleetConfig(maxCampaignTargets);
  const dir = stage(config, 'at-limit');
  const input = join(dir, 'input.json');
  writeFileSync(input, JSON.stringify(config));
  // The image check waits until both masters were looked at, then fails: they end before any child starts.
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const { activities } = fakeActivities({
    verifyImage: async () => {
      await held;
      throw ApplicationFailure.nonRetryable('released by the test', failureTypes.imageVerificationFailed);
    },
  });
  try {
    await withWorker({ connection: temporal.workerConnection, activities, taskQueue: 'ciu' }, async () => {
      const committed = await runCiu(temporal.dev.address, dir, ['write', 'memory']);
      expect(committed).toMatchObject({
        code: 0,
        stdout: expect.stringMatching(/^Campaign at-limit started/),
      });
      await startPlain('ciu', 'at-limit-plain', input);
      for (const workflowId of ['at-limit', 'at-limit-plain']) {
        const handle = temporal.client.workflow.getHandle<typeof masterUpgrade>(workflowId);
        const status = await eventually(
          async () => {
            const s = await handle.query(upgradeStatusQuery);
            return s.phase === 'verifying' && s;
          },
          { what: `${workflowId} verifying its image` },
        );
        expect([status.page.total, status.counts['waiting-verification']]).toEqual([
          maxCampaignTargets,
          maxCampaignTargets,
        ]);
      }
      release();
      for (const workflowId of ['at-limit', 'at-limit-plain'])
        await expect(temporal.client.workflow.getHandle(workflowId).result()).rejects.toBeInstanceOf(
          WorkflowFailedError,
        );
      const children = await temporal.client.workflow.count(`WorkflowType = 'controllerUpgrade'`);
      expect(children.count).toBe(0);
    });
  } finally {
    release();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('temporal workflow start with too many targets: masterUpgrade fails at once with the limit and starts no child', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ciu-limits-'));
  const input = join(dir, 'input.json');
  writeFileSync(input, JSON.stringify(fleetConfig(maxCampaignTargets + 500)));
  const { activities } = fakeActivities();
  try {
    const failure = await withWorker(
      { connection: temporal.workerConnection, activities },
      async (taskQueue) => {
        const workflowId = `campaign-${taskQueue}`;
        await startPlain(taskQueue, workflowId, input);
        const err = await temporal.client.workflow
          .getHandle(workflowId)
          .result()
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WorkflowFailedError);
        const children = await temporal.client.workflow.count(
          `WorkflowType = 'controllerUpgrade' AND TaskQueue = '${taskQueue}'`,
        );
        expect(children.count).toBe(0);
        // The operator's status view gives the run's own reason, not the server's "Encoded failure".
        const shown = await runCiu(temporal.dev.address, dir, [
          'show',
          'upgrade',
          'status',
          '--campaign',
          workflowId,
        ]);
        expect(shown.code).toBe(1);
        expect(shown.stderr).toContain(
          `campaign ${workflowId} ended FAILED before it could answer: campaign too large: targets match ${(maxCampaignTargets + 500).toLocaleString('en-US')} controllers`,
        );
        expect(shown.stderr).toContain(`(${failureTypes.campaignTooLarge})`);
        expect(shown.stderr).not.toContain('Encoded failure');
        return (err as WorkflowFailedError).cause as ApplicationFailure;
      },
    );
    expect(failure.type).toBe(failureTypes.campaignTooLarge);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(
      `targets match ${(maxCampaignTargets + 500).toLocaleString('en-US')} controllers, the limit is ${maxCampaignTargets.toLocaleString('en-US')} per campaign`,
    );
    expect(activities.verifyImage).not.toHaveBeenCalled();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a start Temporal refuses (a payload over its blob limit) is reported in Temporal words at once, not as "nothing answered"', async () => {
  // A server with a 64 KiB payload limit: 1,000 controllers (~120 KB) are within ciu's own limits but not its.
  const dev = await startTestDevServer({
    dynamicConfig: { 'limit.blobSize.warn': 32 * 1024, 'limit.blobSize.error': 64 * 1024 },
  });
  const dir = stage(fleetConfig(1_000), 'refused-by-temporal');
  try {
    const started = Date.now();
    const result = await runCiu(dev.address, dir, ['write', 'memory', '--timeout', '20']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'Temporal refused to start or update campaign refused-by-temporal: Blob data size exceeds limit',
    );
    expect(result.stderr).not.toContain('nothing answered');
    expect(Date.now() - started).toBeLessThan(15_000);
  } finally {
    await dev.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a request over gRPC's 4 MB message limit is not retried for minutes: Temporal's answer comes back at once", async () => {
  // Not reachable through `ciu write memory` (its own limit refuses first, and its client deflates the
  // config); commitCampaign is also the library call, here on a client without ciu's codecs.
  const config = fleetConfig(20_000);
  const started = Date.now();
  const err = await withClient({ address: temporal.dev.address, env: {} }, (client) =>
    commitCampaign(new Client({ connection: client.connection }), 'over-grpc-limit', config, {
      answerTimeoutMs: 30_000,
    }),
  ).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CliError);
  expect((err as CliError).message).toMatch(
    /^Temporal refused to start or update campaign over-grpc-limit: grpc: received message larger than max \(\d+ vs\. 4194304\)$/,
  );
  expect(Date.now() - started).toBeLessThan(10_000);
});

test('status comes as counts plus a bounded page: the query pages, narrows to a state or one controller, and so does ciu show upgrade status', async () => {
  const { activities } = fakeActivities();
  // 260 inventory entries, 4 of them targeted: two pages of status, and only 4 children to wait for.
  const config = { ...fleetConfig(260), targets: ['10.200.0.0/30'] };
  config.profile.autoboot = false;
  const dir = mkdtempSync(join(tmpdir(), 'ciu-limits-'));
  try {
    await withWorker({ connection: temporal.workerConnection, activities }, async (taskQueue) => {
      const campaign = `campaign-${taskQueue}`;
      const handle = await temporal.client.workflow.start(masterUpgrade, {
        taskQueue,
        workflowId: campaign,
        args: [config],
      });
      await handle.result();
      const first = await handle.query(upgradeStatusQuery);
      expect(first.counts).toEqual({ 'downloaded-reboot-required': 4, 'not-targeted': 256 });
      expect(first.controllers).toHaveLength(250);
      expect(first.page).toEqual({ offset: 0, limit: 250, total: 260 });
      const one = await handle.query(upgradeStatusQuery, { controller: '10.200.0.2' });
      expect(one.controllers.map((c) => [c.ip, c.state])).toEqual([
        ['10.200.0.2', 'downloaded-reboot-required'],
      ]);
      const untargeted = await handle.query(upgradeStatusQuery, { state: 'not-targeted', offset: 250 });
      expect(untargeted.page.total).toBe(256);
      expect(untargeted.controllers.map((c) => c.ip)).toEqual([
        '10.200.0.254',
        '10.200.0.255',
        '10.200.1.0',
        '10.200.1.1',
        '10.200.1.2',
        '10.200.1.3',
      ]);
      expect((await handle.query(upgradeStatusQuery, { state: 'failed' })).page.total).toBe(0);
      // Refused (the field is named in the failure, which this test client cannot decode under the payload codec).
      await expect(handle.query(upgradeStatusQuery, { state: 'done' } as never)).rejects.toThrow();

      const ciu = (...args: string[]) =>
        runCiu(temporal.dev.address, dir, [
          'show',
          'upgrade',
          'status',
          '--campaign',
          campaign,
          '--wide',
          ...args,
        ]);
      const page1 = await ciu();
      expect(page1.code).toBe(0);
      expect(page1.stdout).toContain('Controllers 1–250 of 260; next: --page 2');
      expect(page1.stdout).toContain('4 Upgraded, reboot required, 256 Not part of target');
      const page2 = await ciu('--page', '2');
      expect(page2.stdout).toContain('Controllers 251–260 of 260');
      expect(page2.stdout).toContain('10.200.1.3');
      expect(page2.stdout).not.toContain('10.200.0.1 ');
      const lookup = await ciu('--controller', '10.200.0.5');
      expect(lookup.stdout).toContain('10.200.0.5');
      expect(lookup.stdout).not.toContain('10.200.0.6');
      expect(lookup.stdout).not.toContain('next:');
      const bad = await ciu('--state', 'done');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--state must be one of pending');
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 180_000);
