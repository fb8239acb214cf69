/**
 * Rollout controls end to end: a real Temporal dev server, a real Worker with the real activities, a
 * real vsftpd, and simulated controllers over real SSH. One campaign with a reboot window and
 * fallback: downloads run at once, reloads wait for the window (visible as its own state), a
 * controller that boots its old image is rolled back without a second reload, and controllers that
 * fail their pre-checks (flash full, wrong model) never start a transfer. A second campaign adds waves
 * and a failure budget to both, driven through the `ciu` commands an operator types.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { saveStaged } from '../../src/cli/config-file';
import { runCli } from '../../src/cli/program';
import type { CampaignPlan } from '../../src/domain/plan';
import type { Fleet } from '../../devkit/simulator/fleet';
import type { LocalTemporal, RunningWorker } from '../../devkit/stack';
import type { CampaignConfig } from '../../src/domain/types';
import { masterUpgrade, upgradePlanQuery } from '../../workflows';
import { waitForStatus } from '../fixtures/campaign';
import { runCiu, type CiuRun } from '../fixtures/ciu';
import { fleetLogin } from '../fixtures/credentials';
import { stackProfile, startFleetStack, type FleetStack } from '../fixtures/fleet-stack';
import { createTestImage } from '../fixtures/servers';
import { installQuietRuntime } from '../workflow/fake-activities';

const controllerLogin = { username: 'admin', password: 'e2e-Rollout-pw' };
const image = createTestImage({
  imageType: '72xx',
  version: '6.4.0.0',
  build: 81234,
  payloadSize: 256 * 1024,
});

let temporal: LocalTemporal;
let worker: RunningWorker & { taskQueue: string };
let fleet: Fleet;
let waveFleet: Fleet;
let stateDir: string;

let stack: FleetStack;

beforeAll(async () => {
  installQuietRuntime();
  stack = await startFleetStack('rollout', image, controllerLogin, [
    {
      count: 5,
      subnet: '127.61.1.0/24',
      models: ['A7210'],
      version: '6.3.1.0',
      build: 40000,
      controller: { rebootDelayMs: 1000, progressIntervalMs: 50 },
      faults: {
        '127.61.1.3': { bootOldVersion: true },
        '127.61.1.4': { flashFull: true },
        '127.61.1.5': { wrongModel: 'A7010' },
      },
    },
    {
      count: 5,
      subnet: '127.61.2.0/24',
      models: ['A7210'],
      version: '6.3.1.0',
      build: 40000,
      stateSubdir: 'waves',
      controller: { rebootDelayMs: 1000, progressIntervalMs: 50 },
      faults: { '127.61.2.2': { bootOldVersion: true } },
    },
  ]);
  ({ temporal, worker, stateDir } = stack);
  [fleet, waveFleet] = stack.fleets as [Fleet, Fleet];
});

afterAll(() => stack?.stop());

/** The staged profile both tests use: a reboot window, fallback, pre-checks on (the default). */
function profile(rebootWindow: { from: string; until: string }): CampaignConfig['profile'] {
  return stackProfile(stack, image, { maxDownloads: 5, fallback: true, rebootWindow });
}

async function logOf(ip: string): Promise<string> {
  return (await fleet.controller(ip).log.tail(500)).join('\n');
}

test('ciu show upgrade plan --inspect: read-only look at each controller, the wrong model refused with why, nothing changed', async () => {
  const dir = join(stateDir, 'operator');
  saveStaged(join(dir, 'config'), {
    campaign: 'plan-e2e',
    inventory: fleet.inventory,
    targets: ['127.61.1.0/24'],
    profile: profile({ from: '2026-12-01T02:00:00Z', until: '2026-12-01T05:00:00Z' }),
  });
  await writeFile(
    join(dir, 'credentials.json'),
    JSON.stringify({ controllers: fleetLogin(controllerLogin, [fleet]) }),
    {
      mode: 0o600,
    },
  );
  let out = '';
  let err = '';
  const code = await runCli(
    ['--config-dir', join(dir, 'config'), 'show', 'upgrade', 'plan', '--inspect', '--json'],
    {
      io: { out: (t) => (out += t), err: (t) => (err += t) },
      env: { CIU_CREDENTIALS_FILE: join(dir, 'credentials.json') },
    },
  );
  expect({ code, err }).toEqual({ code: 0, err: '' });
  const plan = JSON.parse(out) as CampaignPlan;
  expect(plan.controllers.map((c) => [c.ip, c.action, c.partition ?? c.reason])).toEqual([
    ['127.61.1.1', 'upgrade', '1'],
    ['127.61.1.2', 'upgrade', '1'],
    ['127.61.1.3', 'upgrade', '1'],
    ['127.61.1.4', 'upgrade', '1'],
    [
      '127.61.1.5',
      'refused',
      'pre-check would fail: the controller reports model A7010, the inventory says A7210',
    ],
  ]);
  expect(plan.controllers[0]).toMatchObject({
    runningVersion: '6.3.1.0',
    runningBuild: 40000,
    fallback: true,
  });
  // Free flash as `show storage` reports it: the full one shows 1 KiB.
  expect(plan.controllers[3]?.freeFlash).toBe('1.0 KiB');
  for (const c of fleet.inventory) {
    expect(fleet.controller(c.ip).snapshot().partitions[1]).toEqual({ partition: 1 });
    expect(await logOf(c.ip)).not.toMatch(/Image download|Boot partition set/);
  }
});

test('a reboot window and fallback together: download now, reload in the window, roll back a wrong-version boot, refuse failed pre-checks', async () => {
  const opens = new Date(Date.now() + 25_000);
  const config: CampaignConfig = {
    inventory: fleet.inventory,
    targets: ['127.61.1.0/24'],
    profile: profile({
      from: opens.toISOString(),
      until: new Date(opens.getTime() + 3_600_000).toISOString(),
    }),
  };
  const handle = await temporal.client.workflow.start(masterUpgrade, {
    taskQueue: worker.taskQueue,
    workflowId: `e2e-rollout-${process.pid}`,
    args: [config],
  });

  // The plan of the running campaign: the window, fallback, what each controller gets.
  const plan = await handle.query(upgradePlanQuery);
  expect(plan.controllers[0]).toMatchObject({
    action: 'upgrade',
    image: image.name,
    reboot: `once ${opens.toISOString()} until ${new Date(opens.getTime() + 3_600_000).toISOString()} (opens ${opens.toISOString()})`,
    fallback: true,
    preChecks: true,
  });

  // Before the window: downloaded and verified, waiting visibly; pre-check failures are final.
  const waiting = await waitForStatus(
    handle,
    (c) =>
      ['127.61.1.1', '127.61.1.2', '127.61.1.3'].every((ip) => c[ip]?.state === 'waiting-window') &&
      c['127.61.1.4']?.state === 'pre-check-failed' &&
      c['127.61.1.5']?.state === 'pre-check-failed',
  );
  expect(Date.now()).toBeLessThan(opens.getTime());
  const byIp = Object.fromEntries(waiting.controllers.map((c) => [c.ip, c]));
  expect(byIp['127.61.1.1']).toMatchObject({ window: 'reboot', windowOpensAt: opens.toISOString() });
  expect(byIp['127.61.1.4']?.lastError).toMatch(
    /^FlashFull: pre-check failed: 1\.0 KiB free on flash, the image needs 256\.0 KiB$/,
  );
  expect(byIp['127.61.1.5']?.lastError).toBe(
    'PreCheckFailed: pre-check failed: the controller reports model A7010, the inventory says A7210',
  );
  for (const ip of ['127.61.1.1', '127.61.1.2', '127.61.1.3']) {
    const snapshot = fleet.controller(ip).snapshot();
    expect(snapshot).toMatchObject({ runningVersion: '6.3.1.0', runningPartition: 0 });
    expect(snapshot.partitions[1]).toMatchObject({ version: '6.4.0.0', build: 81234 });
    expect(await logOf(ip)).not.toContain('Reload requested');
  }
  // Pre-check failures never reached the image server.
  for (const ip of ['127.61.1.4', '127.61.1.5']) expect(await logOf(ip)).not.toMatch(/Image download/);

  const summary = await handle.result();
  const states = Object.fromEntries(summary.controllers.map((c) => [c.ip, c.state]));
  expect(states).toEqual({
    '127.61.1.1': 'upgraded',
    '127.61.1.2': 'upgraded',
    '127.61.1.3': 'rolled-back',
    '127.61.1.4': 'pre-check-failed',
    '127.61.1.5': 'pre-check-failed',
  });
  expect(Date.now()).toBeGreaterThanOrEqual(opens.getTime());
  const rolledBack = summary.controllers.find((c) => c.ip === '127.61.1.3');
  expect(rolledBack?.lastError).toBe(
    'VersionMismatchAfterReboot: after reboot the controller runs 6.3.1.0 build 40000, expected 6.4.0.0 build 81234; rolled back to partition 0 (6.3.1.0 build 40000)',
  );
  // Booted back into its previous partition, which ciu never overwrote; the next reload boots it too; one reload only.
  expect(fleet.controller('127.61.1.3').snapshot()).toMatchObject({
    runningVersion: '6.3.1.0',
    runningPartition: 0,
    bootPartition: 0,
  });
  const log = await logOf('127.61.1.3');
  expect(log.split('\n').filter((l) => l.includes('Reload requested'))).toHaveLength(1);
  expect(log).toContain('Boot partition set to 0');
  for (const ip of ['127.61.1.1', '127.61.1.2'])
    expect(fleet.controller(ip).snapshot()).toMatchObject({ runningVersion: '6.4.0.0', runningPartition: 1 });
});

/** `ciu …` in this process against the test's dev server; what it printed and its exit code. */
function ciu(...args: string[]): Promise<CiuRun> {
  return runCiu([
    '--address',
    temporal.dev.address,
    '--config-dir',
    join(stateDir, 'wave-operator'),
    ...args,
  ]);
}

async function waveLogOf(ip: string): Promise<string> {
  return (await waveFleet.controller(ip).log.tail(500)).join('\n');
}

test('waves with a reboot window and fallback: the canary reloads in the window, a rollback in wave 2 halts the campaign, `ciu upgrade resume` finishes it', async () => {
  const opens = new Date(Date.now() + 15_000);
  const campaign = `e2e-waves-${process.pid}`;
  const config: CampaignConfig = {
    inventory: waveFleet.inventory,
    targets: ['127.61.2.0/24'],
    profile: {
      ...profile({ from: opens.toISOString(), until: new Date(opens.getTime() + 3_600_000).toISOString() }),
      waves: [
        { name: 'canary', count: 1, soak: '3s' },
        { name: 'early', count: 2, maxFailures: 0 },
        { name: 'rest' },
      ],
    },
  };
  const handle = await temporal.client.workflow.start(masterUpgrade, {
    taskQueue: worker.taskQueue,
    workflowId: campaign,
    args: [config],
  });

  const plan = await ciu('show', 'upgrade', 'plan', '--running', '--campaign', campaign, '--json');
  expect(plan.code).toBe(0);
  expect((JSON.parse(plan.out) as CampaignPlan).controllers.map((c) => c.wave)).toEqual([
    'canary',
    'early',
    'early',
    'rest',
    'rest',
  ]);

  // The canary alone: downloaded, then waiting for the reboot window; nobody else has started.
  await waitForStatus(handle, (c) => c['127.61.2.1']?.state === 'waiting-window');
  for (const ip of ['127.61.2.2', '127.61.2.3', '127.61.2.4', '127.61.2.5'])
    expect(await waveLogOf(ip)).not.toMatch(/Image download/);

  // In the window the canary reloads; after its soak wave early runs, and .2 boots its old image:
  // rolled back, one failure over max-failures 0, and the campaign halts before wave rest.
  const halted = await waitForStatus(
    handle,
    (c, s) => s.state === 'halted' && c['127.61.2.3']?.state === 'upgraded',
    120_000,
  );
  expect(Date.now()).toBeGreaterThanOrEqual(opens.getTime());
  expect(halted.halt?.reason).toBe(
    'wave "early": 1 failure(s) exceed max-failures 0 (127.61.2.2 Rolled back)',
  );
  expect(halted.controllers.map((c) => [c.ip, c.wave, c.state])).toEqual([
    ['127.61.2.1', 'canary', 'upgraded'],
    ['127.61.2.2', 'early', 'rolled-back'],
    ['127.61.2.3', 'early', 'upgraded'],
    ['127.61.2.4', 'rest', 'waiting-verification'],
    ['127.61.2.5', 'rest', 'waiting-verification'],
  ]);
  expect(waveFleet.controller('127.61.2.2').snapshot()).toMatchObject({
    runningVersion: '6.3.1.0',
    runningPartition: 0,
  });
  const shown = await ciu('show', 'upgrade', 'status', '--campaign', campaign, '--wide');
  expect(shown.code).toBe(0);
  expect(shown.out).toContain(
    'HALTED since ' +
      halted.halt?.at +
      ': wave "early": 1 failure(s) exceed max-failures 0 (127.61.2.2 Rolled back)',
  );
  expect(shown.out).toMatch(/\n.*— campaign HALTED \(failure budget exceeded\)\n$/);
  expect((await handle.describe()).searchAttributes.CiuCampaignState).toEqual(['halted']);
  // Halted: wave rest never reached its controllers.
  for (const ip of ['127.61.2.4', '127.61.2.5']) expect(await waveLogOf(ip)).not.toMatch(/Image download/);

  // Bad requests are refused naming the field: by the CLI, and by the worker's validator.
  const bad = await ciu('upgrade', 'resume', '127.61.2.300', '--campaign', campaign);
  expect(bad.code).toBe(2);
  expect(bad.err).toContain(
    'resumeCampaign refused: resumeCampaign.selectors[0] "127.61.2.300" is not an IPv4 address, a CIDR subnet or all',
  );
  let raw = '';
  const rawCode = await runCli(
    [
      'temporal',
      'workflow',
      'update',
      'execute',
      '--address',
      temporal.dev.address,
      '--workflow-id',
      campaign,
      '--name',
      'pauseCampaign',
      '--input',
      '{"abortDownloads":"yes"}',
    ],
    { io: { out: (t) => (raw += t), err: (t) => (raw += t) }, env: process.env },
  );
  expect(rawCode).not.toBe(0);
  expect(raw).toContain('pauseCampaign refused: pauseCampaign.abortDownloads must be true or false');

  const resumed = await ciu('upgrade', 'resume', '--campaign', campaign);
  expect(resumed).toMatchObject({ code: 0, err: '' });
  expect(resumed.out).toContain(
    'Halt cleared (wave "early": 1 failure(s) exceed max-failures 0 (127.61.2.2 Rolled back)); the campaign continues',
  );
  const summary = await handle.result();
  expect(Object.fromEntries(summary.controllers.map((c) => [c.ip, c.state]))).toEqual({
    '127.61.2.1': 'upgraded',
    '127.61.2.2': 'rolled-back',
    '127.61.2.3': 'upgraded',
    '127.61.2.4': 'upgraded',
    '127.61.2.5': 'upgraded',
  });
  expect((await handle.describe()).searchAttributes.CiuCampaignState).toEqual(['completed']);
  // Every reload of the campaign happened in the window; .2 was reloaded once and booted back once.
  for (const ip of ['127.61.2.1', '127.61.2.3', '127.61.2.4', '127.61.2.5'])
    expect(waveFleet.controller(ip).snapshot()).toMatchObject({
      runningVersion: '6.4.0.0',
      runningPartition: 1,
    });
  expect(
    (await waveLogOf('127.61.2.2')).split('\n').filter((l) => l.includes('Reload requested')),
  ).toHaveLength(1);
});
