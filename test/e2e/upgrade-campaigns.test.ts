/**
 * Whole campaigns, end to end: a real Temporal dev server, a real Worker running the real workflows
 * and the real activities, real vsftpd and OpenSSH image servers, and simulated controllers on their
 * own loopback subnets that really download, verify, log and reboot.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import pino from 'pino';
import { createActivities } from '../../activities';
import type { ControllerActivityDeps } from '../../activities/controller';
import type { CampaignStatus } from '../../src/domain/status';
import type { CampaignConfig, Controller } from '../../src/domain/types';
import { fleetLogin, liveCredentialStore } from '../fixtures/credentials';
import { startFleet, type Fleet, type FleetOptions } from '../../devkit/simulator/fleet';
import type { LocalTemporal, RunningWorker } from '../../devkit/stack';
import { masterUpgrade, purgeTargetsSignal, upgradeStatusQuery } from '../../workflows';
import {
  createTestImage,
  freeLoopbackAddress,
  startFtpServer,
  startSshServer,
  testImageKeys,
  type LocalImageServer,
} from '../fixtures/servers';
import { waitForStatus } from '../fixtures/campaign';
import { startTestTemporal } from '../fixtures/temporal';
import { startTestWorker } from '../fixtures/worker';
import { installQuietRuntime } from '../workflow/fake-activities';

const controllerLogin = { username: 'admin', password: 'e2e-Controller-pw' };
const img72 = createTestImage({
  imageType: '72xx',
  version: '6.4.0.0',
  build: 81234,
  payloadSize: 256 * 1024,
});
// The same target image, unsigned: what a writer of the image server could put there instead.
const unsigned72 = createTestImage({
  imageType: '72xx',
  version: '6.4.0.0',
  build: 81234,
  payloadSize: 64 * 1024,
  sign: false,
});
const unsignedName = 'ArubaOS_72xx_6.4.0.0_81234_unsigned';
const img70 = createTestImage({
  imageType: '70xx',
  version: '6.4.0.0',
  build: 81234,
  payloadSize: 256 * 1024,
});

let temporal: LocalTemporal;
let worker: RunningWorker & { taskQueue: string };
let ftp: LocalImageServer;
let ssh: LocalImageServer;
let stateDir: string;
const fleets: Fleet[] = [];

beforeAll(async () => {
  installQuietRuntime();
  stateDir = await mkdtemp(join(tmpdir(), 'ciu-e2e-'));
  const files = { [img72.name]: img72.bytes, [img70.name]: img70.bytes, [unsignedName]: unsigned72.bytes };
  // Real ArubaOS copy has no port clause: the image servers listen on 21 and 22 of their own address.
  const imageHost = await freeLoopbackAddress(21);
  [temporal, ftp, ssh] = await Promise.all([
    startTestTemporal(),
    startFtpServer({ files, host: imageHost, port: 21 }),
    startSshServer({ files, host: imageHost, port: 22 }),
  ]);
  const deps: ControllerActivityDeps = {
    credentials: liveCredentialStore(() => ({
      controllers: fleetLogin(controllerLogin, fleets),
      'image-ftp': ftp.credentials!,
      'image-ssh': ssh.credentials!,
    })),
    logger: pino({ level: 'silent' }),
    rebootPollMs: 300,
  };
  worker = await startTestWorker({
    connection: temporal.workerConnection,
    activities: createActivities({ ...deps, trustedImageKeys: testImageKeys }),
  });
});

afterAll(async () => {
  await worker?.stop();
  await Promise.all(fleets.map((f) => f.stop()));
  await Promise.all([temporal?.stop(), ftp?.stop(), ssh?.stop()]);
  await rm(stateDir, { recursive: true, force: true });
});

async function fleet(
  subnet: string,
  count: number,
  models: FleetOptions['models'],
  faults?: FleetOptions['faults'],
): Promise<Fleet> {
  const started = await startFleet({
    count,
    subnet,
    models,
    version: '6.3.1.0',
    build: 40000,
    faults,
    stateDir: join(stateDir, subnet.replace('/', '_')),
    credentials: controllerLogin,
    controller: { rebootDelayMs: 1000, progressIntervalMs: 50, imageServerKnownHosts: ssh.knownHostsFile },
  });
  fleets.push(started);
  return started;
}

function config(
  inventory: Controller[],
  targets: string[],
  profile: Partial<CampaignConfig['profile']>,
): CampaignConfig {
  return {
    inventory,
    targets,
    profile: {
      models: {
        A7210: {
          imageFile: img72.name,
          server: { host: ftp.host, port: ftp.port },
          protocol: 'ftp',
          credentialsRef: 'image-ftp',
        },
        A7010: {
          imageFile: img70.name,
          server: { host: ssh.host, port: ssh.port, hostKey: ssh.hostKey },
          protocol: 'scp',
          credentialsRef: 'image-ssh',
        },
      },
      autoboot: true,
      maxDownloads: 4,
      retryInterval: '5s',
      quickTries: 3,
      quickTryBackoff: '1s',
      partition: 'non-boot',
      ...profile,
    },
  };
}

let campaigns = 0;
async function startCampaign(campaignConfig: CampaignConfig): Promise<WorkflowHandle<typeof masterUpgrade>> {
  return temporal.client.workflow.start(masterUpgrade, {
    taskQueue: worker.taskQueue,
    workflowId: `e2e-${process.pid}-${++campaigns}`,
    args: [campaignConfig],
  });
}

async function statusOf(handle: WorkflowHandle<typeof masterUpgrade>): Promise<CampaignStatus> {
  return handle.query(upgradeStatusQuery);
}

async function logOf(f: Fleet, ip: string): Promise<string> {
  return (await f.controller(ip).log.tail(500)).join('\n');
}

function byIp(controllers: Array<{ ip: string; state: string }>): Record<string, string> {
  return Object.fromEntries(controllers.map((c) => [c.ip, c.state]));
}

test('a mixed fleet of two models across two subnets is upgraded with autoboot: all on the new version, each log shows the download', async () => {
  const east = await fleet('127.60.1.0/24', 3, ['A7210', 'A7010']);
  const west = await fleet('127.60.2.0/24', 3, ['A7010', 'A7210']);
  const handle = await startCampaign(
    config([...east.inventory, ...west.inventory], ['127.60.1.0/24', '127.60.2.0/24'], { autoboot: true }),
  );
  const summary = await handle.result();

  expect(summary.outcome).toBe('completed');
  expect(summary.controllers).toHaveLength(6);
  for (const c of summary.controllers) expect(c).toMatchObject({ state: 'upgraded', attempts: 1 });
  for (const f of [east, west]) {
    for (const c of f.inventory) {
      expect(f.controller(c.ip).snapshot()).toMatchObject({
        runningVersion: '6.4.0.0',
        runningBuild: 81234,
        runningPartition: 1,
      });
      const log = await logOf(f, c.ip);
      const expected =
        c.model === 'A7210'
          ? `Image download succeeded: ftp://${ftp.host}/${img72.name}`
          : `Image download succeeded: scp://${ssh.host}/${img70.name}`;
      expect(log).toContain(expected);
      expect(log).toContain('System booted from partition 1, running 6.4.0.0 build 81234');
    }
  }
});

test('a controller that fails 5 downloads upgrades on the next cycle; its log and the master’s status show the errors', async () => {
  const f = await fleet('127.60.3.0/24', 1, ['A7210'], { '127.60.3.1': { refuseDownloads: 5 } });
  const handle = await startCampaign(config(f.inventory, ['all'], { autoboot: true, retryInterval: '5s' }));
  const refused = `transfer refused: image server ${ftp.host} closed the data connection (simulated fault)`;

  const waiting = await waitForStatus(handle, (c) => c['127.60.3.1']?.state === 'waiting-retry');
  expect(waiting.controllers[0]).toMatchObject({ state: 'waiting-retry', attempts: 3 });
  expect(waiting.controllers[0]?.lastError).toContain(refused);
  expect(waiting.controllers[0]?.nextRetryAt).toBeDefined();

  const summary = await handle.result();
  expect(summary.controllers[0]).toMatchObject({ ip: '127.60.3.1', state: 'upgraded', attempts: 6 });
  expect(f.controller('127.60.3.1').snapshot().runningVersion).toBe('6.4.0.0');
  const log = await logOf(f, '127.60.3.1');
  expect(
    log.split('\n').filter((l) => l.includes(`Image download failed: `) && l.includes(refused)),
  ).toHaveLength(5);
  expect(log).toMatch(/<ERRS> \|ciu\| .*download failed 3 times \(cycle 1\); next try in 5s/);
  expect(log).toContain('Image download succeeded');
});

test('purging one subnet mid-run stops exactly those controllers, aborting their transfers on the device', async () => {
  const stalled = await fleet('127.60.4.0/24', 2, ['A7210', 'A7010'], {
    '127.60.4.1': { stallDownloads: 1 },
    '127.60.4.2': { stallDownloads: 1 },
  });
  const healthy = await fleet('127.60.5.0/24', 2, ['A7210', 'A7010']);
  const handle = await startCampaign(
    config([...stalled.inventory, ...healthy.inventory], ['all'], { autoboot: false, maxDownloads: 4 }),
  );
  await waitForStatus(
    handle,
    (c) =>
      c['127.60.4.1']?.state === 'downloading' &&
      c['127.60.4.2']?.state === 'downloading' &&
      c['127.60.5.1']?.state === 'downloaded-reboot-required' &&
      c['127.60.5.2']?.state === 'downloaded-reboot-required',
  );
  await handle.signal(purgeTargetsSignal, '127.60.4.0/24');
  const summary = await handle.result();

  expect(byIp(summary.controllers)).toEqual({
    '127.60.4.1': 'purged',
    '127.60.4.2': 'purged',
    '127.60.5.1': 'downloaded-reboot-required',
    '127.60.5.2': 'downloaded-reboot-required',
  });
  for (const ip of ['127.60.4.1', '127.60.4.2']) {
    expect(await logOf(stalled, ip)).toMatch(/Image download failed: .*: transfer aborted by user/);
    expect(stalled.controller(ip).snapshot().partitions[1]).toEqual({ partition: 1 });
  }
});

test('with autoboot off controllers end "reboot required": old version running, new image in the other partition', async () => {
  const f = await fleet('127.60.6.0/24', 2, ['A7210', 'A7010']);
  const handle = await startCampaign(config(f.inventory, ['127.60.6.0/24'], { autoboot: false }));
  const summary = await handle.result();

  for (const c of summary.controllers) expect(c.state).toBe('downloaded-reboot-required');
  const status = await statusOf(handle);
  for (const c of status.controllers) {
    expect(c).toMatchObject({
      state: 'downloaded-reboot-required',
      runningVersion: '6.3.1.0',
      runningBuild: 40000,
    });
  }
  for (const c of f.inventory) {
    const snapshot = f.controller(c.ip).snapshot();
    expect(snapshot).toMatchObject({ runningVersion: '6.3.1.0', runningPartition: 0, bootPartition: 0 });
    expect(snapshot.partitions[1]).toMatchObject({ version: '6.4.0.0', build: 81234 });
    const log = await logOf(f, c.ip);
    expect(log).toContain('Image download succeeded');
    expect(log).not.toContain('Reload requested');
  }
});

test('a controller that never comes back after reload is reported failed (RebootTimeout), not waited on', async () => {
  const f = await fleet('127.60.7.0/24', 2, ['A7210'], { '127.60.7.1': { neverComeBack: true } });
  const started = Date.now();
  // The profile's reboot-timeout: a controller silent this long after reload is reported, not waited on.
  const handle = await startCampaign(config(f.inventory, ['all'], { autoboot: true, rebootTimeout: '5s' }));
  const summary = await handle.result();

  expect(Date.now() - started).toBeLessThan(60_000);
  expect(byIp(summary.controllers)).toEqual({ '127.60.7.1': 'failed', '127.60.7.2': 'upgraded' });
  const failed = summary.controllers.find((c) => c.ip === '127.60.7.1');
  expect(failed?.lastError).toMatch(/did not come back after reload: waited \d+ s \(limit 5 s; /);
  expect(f.controller('127.60.7.1').snapshot().up).toBe(false);
});

test('an unsigned image on the image server stops the campaign before any download; allow-unsigned lets it through', async () => {
  const f = await fleet('127.60.8.0/24', 1, ['A7210']);
  const unsignedImage = (profile: Partial<CampaignConfig['profile']>): CampaignConfig => {
    const campaign = config(f.inventory, ['all'], { autoboot: true, ...profile });
    campaign.profile.models = {
      A7210: { ...campaign.profile.models.A7210!, imageFile: unsignedName },
    };
    return campaign;
  };

  const refused = await startCampaign(unsignedImage({}));
  const err = await refused.result().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const status = await statusOf(refused);
  expect(status.phase).toBe('verification-failed');
  expect(status.verifications).toEqual([
    expect.objectContaining({
      model: 'A7210',
      ok: false,
      errorType: 'ImageNotTrusted',
      error: `image ${unsignedName} on ${ftp.host}:${ftp.port} is not signed, and the upgrade-profile does not allow unsigned images`,
    }),
  ]);
  expect(await logOf(f, '127.60.8.1')).not.toContain('Image download');

  const allowed = await startCampaign(unsignedImage({ allowUnsigned: true }));
  const summary = await allowed.result();
  expect(byIp(summary.controllers)).toEqual({ '127.60.8.1': 'upgraded' });
  expect(await logOf(f, '127.60.8.1')).toContain(
    `Image download succeeded: ftp://${ftp.host}/${unsignedName}`,
  );
});
