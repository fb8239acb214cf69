/**
 * The campaign-level fault matrix, end to end: a real dev server, a real ciu worker, a real vsftpd and
 * simulated controllers (real SSH servers), driven the way an operator does (bin/ciu.js in its own
 * process). Each case asserts every controller's end state and, from the simulator's own log, the exact
 * number of downloads it started and reloads it received. (The device faults are in
 * fault-matrix-device.test.ts.) Own subnet 127.74.0.0/16, ports from the OS, short intervals.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import type { Fleet } from '../../devkit/simulator/fleet';
import type { StoredCredentials } from '../../src/credentials/store';
import type { CampaignConfig } from '../../src/domain/types';
import { masterUpgrade } from '../../workflows';
import { waitForStatus } from '../fixtures/campaign';
import { killHard, runCiu, spawnWorkerProcess, type CommandResult } from '../fixtures/processes';
import { startTestStack, type TestStack } from '../fixtures/stack';

const subnet = '127.74.1.0/24';
const ips = ['127.74.1.1', '127.74.1.2', '127.74.1.3'];
const crewSubnet = '127.74.4.0/24';
const crewIps = ['127.74.4.1', '127.74.4.2', '127.74.4.3', '127.74.4.4', '127.74.4.5', '127.74.4.6'];

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack(
    {
      groups: [
        { subnet, target: subnet, count: ips.length, models: ['A7210'], runs: 'old' },
        { subnet: crewSubnet, target: crewSubnet, count: crewIps.length, models: ['A7210'], runs: 'old' },
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
      expect({ ...(await deviceActions(fleetOf(ip), ip)), attempts }).toEqual({
        downloads: 1 + cut,
        reloads: 1,
        attempts: 1 + cut,
      });
    }
  } finally {
    await Promise.all(crew.map(killHard));
  }
}, 300_000);
