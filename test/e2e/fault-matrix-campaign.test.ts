/**
 * The campaign-level fault matrix, end to end: a real dev server, a real ciu worker, a real vsftpd and
 * simulated controllers (real SSH servers), driven the way an operator does (bin/ciu.js in its own
 * process). Each case asserts every controller's end state and, from the simulator's own log, the exact
 * number of downloads it started and reloads it received. (The device faults are in
 * fault-matrix-device.test.ts.) Own subnet 127.74.0.0/16, ports from the OS, short intervals.
 */
import type { ChildProcess } from 'node:child_process';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import type { Fleet } from '../../devkit/simulator/fleet';
import type { StoredCredentials } from '../../src/credentials/store';
import type { CampaignConfig } from '../../src/domain/types';
import { masterUpgrade } from '../../workflows';
import { waitForStatus } from '../fixtures/campaign';
import { eventually } from '../fixtures/eventually';
import { killHard, runCiu, spawnWorkerProcess, type CommandResult } from '../fixtures/processes';
import { startTestStack, type TestStack } from '../fixtures/stack';

const subnet = '127.74.1.0/24';
const ips = ['127.74.1.1', '127.74.1.2', '127.74.1.3'];
const crewSubnet = '127.74.4.0/24';
const crewIps = ['127.74.4.1', '127.74.4.2', '127.74.4.3', '127.74.4.4', '127.74.4.5', '127.74.4.6'];
const verifySubnet = '127.74.6.0/24';
const verifyIps = ['127.74.6.1', '127.74.6.2'];
const recommitSubnet = '127.74.7.0/24';
const recommitIps = ['127.74.7.1', '127.74.7.2'];

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack(
    {
      groups: [
        { subnet, target: subnet, count: ips.length, models: ['A7210'], runs: 'old' },
        { subnet: crewSubnet, target: crewSubnet, count: crewIps.length, models: ['A7210'], runs: 'old' },
        {
          subnet: verifySubnet,
          target: verifySubnet,
          count: verifyIps.length,
          models: ['A7210'],
          runs: 'old',
        },
        {
          subnet: recommitSubnet,
          target: recommitSubnet,
          count: recommitIps.length,
          models: ['A7210'],
          runs: 'old',
        },
      ],
      retryInterval: '2s',
    },
    // Task queue 'ciu' is for the worker processes this file starts and kills.
    { taskQueue: `matrix-in-process-${process.pid}` },
  );
});
const workers: ChildProcess[] = [];
afterAll(async () => {
  await Promise.all(workers.map(killHard));
  await stack?.stop();
});

/** A worker process on task queue 'ciu' with the stack's controller login and `imageLogin` for the images. */
function spawnWorker(imageLogin: StoredCredentials): ChildProcess {
  const child = spawnWorkerProcess({
    address: stack.dev.address,
    credentialsFile: join(stack.dir, `credentials-${workers.length}.json`),
    credentials: {
      'demo-controllers': stack.env.credentialEntries['demo-controllers']!,
      'demo-images': imageLogin,
    },
    knownHostsFile: stack.env.knownHostsFile,
    imageKeyFile: stack.env.imageKeyFile,
  });
  workers.push(child);
  return child;
}

/** One operator shell: `ciu <args>` in its own process against the stack's dev server. */
function ciu(configDir: string, ...args: string[]): Promise<CommandResult> {
  return runCiu(stack.dev.address, configDir, args);
}

/** What the controller's own log says happened to it: downloads started (each ends in one line) and reloads. */
async function deviceActions(fleet: Fleet, ip: string): Promise<{ downloads: number; reloads: number }> {
  const lines = await fleet.controller(ip).log.tail(10_000);
  return {
    downloads: lines.filter((l) => /Image download (succeeded|failed)/.test(l)).length,
    reloads: lines.filter((l) => l.includes('Reload requested')).length,
  };
}

function fleetOf(ip: string): Fleet {
  const fleet = stack.env.fleets.find((f) => f.inventory.some((c) => c.ip === ip));
  if (!fleet) throw new Error(`no simulated controller ${ip}`);
  return fleet;
}

test('the same config committed twice at once from two shells: one campaign, one download and one reload per controller', async () => {
  const campaign = `matrix-commit-${process.pid}`;
  // Two operators' shells, each with its own copy of the same staged config.
  const shells = ['shell-1', 'shell-2'].map((name) => {
    const dir = join(stack.dir, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'config.yaml'),
      stringifyYaml({ campaign, ...stack.env.config, targets: [subnet] }),
    );
    return dir;
  });
  const worker = spawnWorker(stack.env.credentialEntries['demo-images']!);
  try {
    const results = await Promise.all(shells.map((dir) => ciu(dir, 'write', 'memory', '--timeout', '120')));
    for (const result of results) expect(result).toMatchObject({ code: 0, stderr: '' });
    // Whichever came second found the campaign started by the first, with this exact config.
    for (const result of results) expect(result.stdout).toContain('revision 1 (unchanged)');
    const runs: string[] = [];
    for await (const run of stack.client.workflow.list({ query: `WorkflowId = '${campaign}'` }))
      runs.push(run.runId);
    expect(runs).toHaveLength(1);

    // Bound: three 256 KiB images, 300 ms reboots, max-downloads 2.
    const summary = await stack.client.workflow.getHandle<typeof masterUpgrade>(campaign).result();
    expect(summary.revision).toBe(1);
    expect(summary.controllers.map((c) => [c.ip, c.state, c.attempts])).toEqual(
      ips.map((ip) => [ip, 'upgraded', 1]),
    );
    for (const ip of ips) expect(await deviceActions(fleetOf(ip), ip)).toEqual({ downloads: 1, reloads: 1 });

    // A third commit of the same config after the end starts nothing.
    const again = await ciu(shells[0]!, 'write', 'memory');
    expect(again.stdout).toContain(`Campaign ${campaign} already ran this exact config`);
    expect(again.stdout).toContain(
      'ended with every target upgraded, up-to-date or purged; nothing started. To upgrade the same targets again, name a new campaign',
    );
    for (const ip of ips) expect(await deviceActions(fleetOf(ip), ip)).toEqual({ downloads: 1, reloads: 1 });
  } finally {
    // The next cases need task queue 'ciu' to themselves.
    await killHard(worker);
  }
}, 180_000);

test('three workers on one task queue, one SIGKILLed mid-campaign: every controller upgraded, a download again only where one was cut, one reload each', async () => {
  const login = stack.env.credentialEntries['demo-images']!;
  const crew = [spawnWorker(login), spawnWorker(login), spawnWorker(login)];
  const config = stack.env.config as CampaignConfig;
  const handle = await stack.client.workflow.start(masterUpgrade, {
    taskQueue: 'ciu',
    workflowId: `matrix-crew-${process.pid}`,
    args: [{ ...config, targets: [crewSubnet], profile: { ...config.profile, maxDownloads: 3 } }],
  });
  // Mid-campaign: the first wave (max-downloads 3) under way.
  await waitForStatus(handle, (c) =>
    crewIps.some((ip) => ['downloading', 'rebooting', 'upgraded'].includes(c[ip]?.state ?? '')),
  );
  try {
    await killHard(crew[0]!);

    // Bound: a download cut by the dead worker is noticed by its 45 s heartbeat timeout.
    const summary = await handle.result();
    expect(summary.controllers.map((c) => [c.ip, c.state])).toEqual(crewIps.map((ip) => [ip, 'upgraded']));
    for (const ip of crewIps) {
      const lines = await fleetOf(ip).controller(ip).log.tail(10_000);
      const cut = lines.filter((l) => l.includes('transfer aborted by user')).length;
      const attempts = summary.controllers.find((c) => c.ip === ip)?.attempts;
      expect(await deviceActions(fleetOf(ip), ip)).toEqual({ downloads: 1 + cut, reloads: 1 });
      // A try the dead worker had begun but not yet sent to the controller (login, the look before
      // the copy) counts as a try without a download on the device.
      expect(attempts).toBeGreaterThanOrEqual(1 + cut);
      expect(attempts).toBeLessThanOrEqual(2 + cut);
    }
  } finally {
    await Promise.all(crew.map(killHard));
  }
}, 300_000);

/** The attempt on which each completed activity of a run succeeded, by activity type. */
async function completedAttempts(handle: WorkflowHandle): Promise<Array<[string, number]>> {
  const events = (await handle.fetchHistory()).events ?? [];
  const byId = new Map(events.map((e) => [Number(e.eventId), e]));
  return events.flatMap((e) => {
    const done = e.activityTaskCompletedEventAttributes;
    if (!done) return [];
    const type = byId.get(Number(done.scheduledEventId))?.activityTaskScheduledEventAttributes?.activityType
      ?.name;
    const attempt = byId.get(Number(done.startedEventId))?.activityTaskStartedEventAttributes?.attempt;
    return [[type ?? '?', attempt ?? 0] as [string, number]];
  });
}

test('worker SIGKILLed while it verifies the image: the next worker retries within seconds; one download and one reload per controller', async () => {
  const login = stack.env.credentialEntries['demo-images']!;
  const ftp = stack.env.ftp;
  const config = stack.env.config as CampaignConfig;
  const doomed = spawnWorker(login);
  // Held, the image server leaves the header read waiting, so the kill surely lands mid-verification.
  ftp.pause!();
  let killedAt = 0;
  const handle = await stack.client.workflow.start(masterUpgrade, {
    taskQueue: 'ciu',
    workflowId: `matrix-verify-${process.pid}`,
    args: [{ ...config, targets: [verifySubnet] }],
  });
  try {
    await eventually(
      async () =>
        (await handle.describe()).raw.pendingActivities?.some(
          (a) =>
            a.activityType?.name === 'verifyImage' &&
            a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
        ),
      { what: 'verifyImage running on the first worker' },
    );
    await killHard(doomed);
    killedAt = Date.now();
  } finally {
    ftp.resume!();
  }
  const next = spawnWorker(login);
  try {
    await waitForStatus(handle, (_, status) => status.verifications.some((v) => v.ok));
    // Heartbeat timeout (10 s) and a 5 s retry, plus the new worker's start; the 2-minute
    // start-to-close timeout alone would take 120 s.
    expect(Date.now() - killedAt).toBeLessThan(60_000);

    const summary = await handle.result();
    expect(summary.controllers.map((c) => [c.ip, c.state, c.attempts])).toEqual(
      verifyIps.map((ip) => [ip, 'upgraded', 1]),
    );
    for (const ip of verifyIps)
      expect(await deviceActions(fleetOf(ip), ip)).toEqual({ downloads: 1, reloads: 1 });
    // The header check succeeded on its second attempt: the first died with its worker.
    expect((await completedAttempts(handle)).filter(([type]) => type === 'verifyImage')).toEqual([
      ['verifyImage', 2],
    ]);
  } finally {
    await killHard(next);
  }
}, 240_000);

test('a campaign whose image failed verification, committed again with the same config once the image is fixed on its server, runs again', async () => {
  const campaign = `matrix-recommit-${process.pid}`;
  const config = stack.env.config as CampaignConfig;
  const goodImage = join(stack.dir, 'demo', 'images', stack.env.images.A7210!);
  const imageFile = `${stack.env.images.A7210!}_respin`;
  // What the image server has at first under that name: a truncated upload.
  await stack.env.ftp.addFile(imageFile, Buffer.from('not an image'));
  const shell = join(stack.dir, 'recommit-shell');
  mkdirSync(shell, { recursive: true });
  writeFileSync(
    join(shell, 'config.yaml'),
    stringifyYaml({
      campaign,
      ...config,
      targets: [recommitSubnet],
      profile: { ...config.profile, models: { A7210: { ...config.profile.models.A7210!, imageFile } } },
    }),
  );
  const worker = spawnWorker(stack.env.credentialEntries['demo-images']!);
  try {
    const first = await ciu(shell, 'write', 'memory', '--timeout', '120');
    expect(first).toMatchObject({ code: 0, stderr: '' });
    const firstRun = /\(run ([0-9a-f-]+)\)/.exec(first.stdout)?.[1];
    expect(firstRun).toBeDefined();
    await expect(stack.client.workflow.getHandle(campaign).result()).rejects.toMatchObject({
      cause: { type: 'ImageVerificationFailed' },
    });

    // The operator replaces the broken file on the server; the config stays what it was.
    await stack.env.ftp.addFile(imageFile, goodImage);
    const again = await ciu(shell, 'write', 'memory', '--timeout', '120');
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(again.stdout).toContain(`Campaign ${campaign} started again (run `);
    expect(again.stdout).toContain(
      `its last run of this exact config (run ${firstRun}) ended FAILED; revision 1`,
    );

    const summary = await stack.client.workflow.getHandle<typeof masterUpgrade>(campaign).result();
    expect(summary.controllers.map((c) => [c.ip, c.state])).toEqual(
      recommitIps.map((ip) => [ip, 'upgraded']),
    );
    for (const ip of recommitIps)
      expect(await deviceActions(fleetOf(ip), ip)).toEqual({ downloads: 1, reloads: 1 });
    const runs: string[] = [];
    for await (const run of stack.client.workflow.list({ query: `WorkflowId = '${campaign}'` }))
      runs.push(run.runId);
    expect(runs).toHaveLength(2);
  } finally {
    await killHard(worker);
  }
}, 240_000);
