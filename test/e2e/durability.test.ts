/**
 * Durability, end to end: a campaign on a real Temporal dev server (SQLite file), a real ciu worker,
 * a real vsftpd and simulated controllers survives its worker going away, the Temporal server being
 * killed and restarted on the same database, the image server disappearing for a while, and a worker
 * process killed outright mid-download — no controller is lost, no counter goes back, no finished
 * controller is downloaded to or rebooted twice.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { CredentialStore, StoredCredentials } from '../../src/credentials/store';
import { fleetLogin, liveCredentialStore } from '../fixtures/credentials';
import type { CampaignConfig } from '../../src/domain/types';
import { createLogger } from '../../src/logging';
import { runWorker, type LocalTemporal, type RunningWorker } from '../../devkit/stack';
import { startFleet, type Fleet } from '../../devkit/simulator/fleet';
import { freePort } from '../../devkit/temporal/free-port';
import { installRuntime } from '../../workers/runtime';
import { createCiuWorker, taskQueue as ciuTaskQueue } from '../../workers/worker';
import { controllerWorkflowId, masterUpgrade, upgradeStatusQuery } from '../../workflows';
import { waitForStatus } from '../fixtures/campaign';
import { eventually } from '../fixtures/eventually';
import { killHard, spawnWorkerProcess } from '../fixtures/processes';
import {
  createTestImage,
  startFtpServer,
  testImageKeyPem,
  testImageKeys,
  type LocalImageServer,
} from '../fixtures/servers';
import { startTestTemporal } from '../fixtures/temporal';
import { testMessageKeys, workflowBundle } from '../fixtures/worker';

const controllerLogin = { username: 'admin', password: 'durability-Controller-pw' };
const image = createTestImage({
  imageType: '72xx',
  version: '6.4.0.0',
  build: 81234,
  payloadSize: 256 * 1024,
});
const files = { [image.name]: image.bytes };
const ftpHost = '127.70.0.1';
const subnet = '127.70.1.0/24';
const [stubborn, ...healthy] = ['127.70.1.1', '127.70.1.2', '127.70.1.3', '127.70.1.4'] as const;
const taskQueue = `e2e-durability-${process.pid}`;
const logger = createLogger('durability-test', { level: process.env.CIU_LOG_LEVEL ?? 'silent' });

/** What runs on the "master" side and is replaced on restart: dev server, client, worker. */
interface Master {
  temporal: LocalTemporal;
  worker: RunningWorker;
}

let dir: string;
let dbFile: string;
let temporalPort: number;
let ftpPort: number;
let ftp: LocalImageServer | undefined;
let fleet: Fleet | undefined;
let master: Master | undefined;
const workerProcesses: ChildProcess[] = [];

// vsftpd gets a new account each time it starts; the worker resolves the reference at each use, and
// keeps the last one known while the image server is down.
let ftpLogin: StoredCredentials | undefined;
const fleets: Fleet[] = [];
function storeEntries(): Record<string, StoredCredentials> {
  return { controllers: fleetLogin(controllerLogin, fleets), ...(ftpLogin ? { 'image-ftp': ftpLogin } : {}) };
}
const credentials: CredentialStore = liveCredentialStore(storeEntries);

async function startImageServer(): Promise<LocalImageServer> {
  const started = await startFtpServer({ files, host: ftpHost, port: ftpPort });
  ftpLogin = started.credentials!;
  return started;
}

/** Starts (or restarts, on the same SQLite file and port) the dev server, a client and a ciu worker. */
async function startMaster(): Promise<void> {
  const temporal = await startTestTemporal({ dbFile, port: temporalPort });
  const worker = runWorker(
    await createCiuWorker({
      connection: temporal.workerConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      credentials,
      logger,
      messageKeys: testMessageKeys,
      trustedImageKeys: testImageKeys,
    }),
  );
  master = { temporal, worker };
}

/** Worker drained and gone, connections closed, Temporal server killed (SIGKILL, no clean shutdown). */
async function stopMaster(): Promise<void> {
  const stopping = master;
  master = undefined;
  await stopping?.worker.stop();
  await stopping?.temporal.stop({ kill: true });
}

/** `npm run worker` as its own process (task queue 'ciu'), so it can be killed for real. */
function spawnWorker(): ChildProcess {
  if (!master) throw new Error('the master is not running');
  const imageKeyFile = join(dir, 'image-key.pub');
  writeFileSync(imageKeyFile, testImageKeyPem);
  const child = spawnWorkerProcess({
    address: master.temporal.dev.address,
    credentialsFile: join(dir, 'credentials.json'),
    credentials: storeEntries(),
    imageKeyFile,
  });
  workerProcesses.push(child);
  return child;
}

function client(): Client {
  if (!master) throw new Error('the master is not running');
  return master.temporal.client;
}

function config(inventory: CampaignConfig['inventory'], targets = [subnet]): CampaignConfig {
  return {
    inventory,
    targets,
    profile: {
      models: {
        A7210: {
          imageFile: image.name,
          server: { host: ftpHost, port: ftpPort },
          protocol: 'ftp',
          credentialsRef: 'image-ftp',
        },
      },
      autoboot: true,
      maxDownloads: 4,
      retryInterval: '3s',
      quickTries: 3,
      quickTryBackoff: '200ms',
      partition: 'non-boot',
    },
  };
}

/** Until the child's running download has reported bytes received (heartbeat details, as the Web UI shows them). */
async function waitForBytesInFlight(workflowId: string): Promise<void> {
  await eventually(async () => {
    const { raw } = await client().workflow.getHandle(workflowId).describe();
    return (raw.pendingActivities ?? []).some((a) => {
      const data = a.heartbeatDetails?.payloads?.[0]?.data;
      return (
        data !== undefined &&
        data !== null &&
        (JSON.parse(Buffer.from(data).toString()) as { bytes: number }).bytes > 0
      );
    });
  });
}

async function logLines(f: Fleet | undefined, ip: string, containing: string): Promise<string[]> {
  if (!f) throw new Error('no fleet');
  return (await f.controller(ip).log.tail(1000)).filter((line) => line.includes(containing));
}

beforeAll(async () => {
  installRuntime({ logger, shutdownSignals: [] });
  dir = await mkdtemp(join(tmpdir(), 'ciu-durability-'));
  dbFile = join(dir, 'temporal.db');
  // ArubaOS's copy has no port clause: the image server is on 21 of its own address.
  [temporalPort, ftpPort] = await Promise.all([freePort(), 21, workflowBundle()]);
  ftp = await startImageServer();
  fleet = await startFleet({
    count: 4,
    subnet,
    models: ['A7210'],
    version: '6.3.1.0',
    build: 40000,
    // Refuses every download until the test clears it, so it is in its retry loop when the lights go out.
    faults: { [stubborn]: { refuseDownloads: 1_000_000 } },
    stateDir: join(dir, 'fleet'),
    credentials: controllerLogin,
    controller: { rebootDelayMs: 1000, progressIntervalMs: 50 },
  });
  fleets.push(fleet);
  await startMaster();
});

afterAll(async () => {
  await Promise.all(workerProcesses.map(killHard));
  await stopMaster();
  await Promise.all([fleet?.stop(), ftp?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

test('worker gone, Temporal server killed and restarted, image server lost: the campaign finishes with every controller and counter intact', async () => {
  const started = await client().workflow.start(masterUpgrade, {
    taskQueue,
    workflowId: `e2e-durability-${process.pid}`,
    args: [config(fleet!.inventory)],
  });

  // Mid-campaign: three controllers upgraded, the fourth failing its download cycles.
  const before = await waitForStatus(
    started,
    (c) =>
      healthy.every((ip) => c[ip]?.state === 'upgraded') &&
      c[stubborn]?.state === 'waiting-retry' &&
      (c[stubborn]?.attempts ?? 0) >= 3,
  );
  const beforeById = Object.fromEntries(before.controllers.map((c) => [c.ip, c]));
  expect(beforeById[stubborn]?.lastError).toContain('transfer refused');

  // Everything on the master side goes away; so does the image server. The controller's own fault is
  // cleared, so from now on only the missing image server stands between it and the new image.
  await stopMaster();
  await ftp!.stop();
  ftp = undefined;
  await fleet!.controller(stubborn).setFaults({ refuseDownloads: 0 });

  await startMaster();
  const handle = client().workflow.getHandle<typeof masterUpgrade>(started.workflowId, undefined, {
    firstExecutionRunId: started.firstExecutionRunId,
  });
  const afterRestart = await handle.query(upgradeStatusQuery);
  expect(afterRestart).toMatchObject({ campaign: started.workflowId, revision: before.revision });
  expect(afterRestart.controllers.map((c) => c.ip).sort()).toEqual(
    before.controllers.map((c) => c.ip).sort(),
  );
  for (const c of afterRestart.controllers) {
    const earlier = beforeById[c.ip];
    expect(c.attempts).toBeGreaterThanOrEqual(earlier?.attempts ?? Infinity);
    if (healthy.includes(c.ip as (typeof healthy)[number]))
      expect(c).toMatchObject({ state: 'upgraded', attempts: 1, runningVersion: '6.4.0.0' });
  }

  // With the image server still down, the controller keeps cycling; status shows why.
  const outage = await waitForStatus(
    handle,
    (c) =>
      c[stubborn]?.state === 'waiting-retry' &&
      (c[stubborn]?.attempts ?? 0) >= (beforeById[stubborn]?.attempts ?? 0) + 3 &&
      !c[stubborn]?.lastError?.includes('transfer refused'),
  );
  const stubbornDuringOutage = outage.controllers.find((c) => c.ip === stubborn);
  expect(stubbornDuringOutage?.lastError).toMatch(/transfer failed: .*ECONNREFUSED/);
  expect(
    await logLines(fleet, stubborn, `Image download failed: ftp://${ftpHost}/${image.name}: transfer failed`),
  ).not.toHaveLength(0);

  // The image server comes back on the same address (new process, new account, same image).
  ftp = await startImageServer();
  const summary = await handle.result();

  expect(summary.outcome).toBe('completed');
  expect(summary.controllers.map((c) => [c.ip, c.state]).sort()).toEqual(
    [stubborn, ...healthy].map((ip) => [ip, 'upgraded']).sort(),
  );
  const final = summary.controllers.find((c) => c.ip === stubborn);
  expect(final?.attempts).toBeGreaterThan(stubbornDuringOutage?.attempts ?? Infinity);
  const finalStatus = await handle.query(upgradeStatusQuery);
  expect(finalStatus.phase).toBe('completed');

  const description = await handle.describe();
  expect(description.workflowId).toBe(started.workflowId);
  expect(description.raw.workflowExecutionInfo?.firstRunId).toBe(started.firstExecutionRunId);

  for (const ip of [stubborn, ...healthy]) {
    expect(fleet!.controller(ip).snapshot()).toMatchObject({
      runningVersion: '6.4.0.0',
      runningBuild: 81234,
      runningPartition: 1,
    });
    // Once downloaded and rebooted, never again: nothing was replayed against the device.
    expect(await logLines(fleet, ip, 'Image download succeeded')).toHaveLength(1);
    expect(await logLines(fleet, ip, 'Reload requested')).toHaveLength(1);
  }
});

test('a worker process killed (SIGKILL) mid-download: the next worker process retries the interrupted downloads and finishes', async () => {
  ftp ??= await startImageServer();
  if (!master) await startMaster();
  const stalledSubnet = '127.70.2.0/24';
  const stalled = ['127.70.2.1', '127.70.2.2'];
  const second = await startFleet({
    count: 2,
    subnet: stalledSubnet,
    models: ['A7210'],
    version: '6.3.1.0',
    build: 40000,
    // Their first transfer stops half-way and hangs, so it is surely in flight when the worker dies.
    faults: Object.fromEntries(stalled.map((ip) => [ip, { stallDownloads: 1 }])),
    stateDir: join(dir, 'fleet-2'),
    credentials: controllerLogin,
    controller: { rebootDelayMs: 1000, progressIntervalMs: 50 },
  });
  fleets.push(second);
  try {
    const doomed = spawnWorker();
    const campaign = `e2e-durability-kill-${process.pid}`;
    const handle = await client().workflow.start(masterUpgrade, {
      taskQueue: ciuTaskQueue,
      workflowId: campaign,
      args: [config(second.inventory, [stalledSubnet])],
    });
    await waitForStatus(handle, (c) => stalled.every((ip) => c[ip]?.state === 'downloading'));
    for (const ip of stalled) await waitForBytesInFlight(controllerWorkflowId(campaign, ip));

    await killHard(doomed);
    // The device sees its CLI session drop and stops copying.
    for (const ip of stalled)
      await eventually(async () => (await logLines(second, ip, 'transfer aborted by user')).length === 1);
    spawnWorker();

    const summary = await handle.result();
    expect(summary.outcome).toBe('completed');
    for (const ip of stalled) {
      const result = summary.controllers.find((c) => c.ip === ip);
      // The interrupted try counts, and says why it ended.
      expect(result).toMatchObject({ state: 'upgraded', attempts: 2 });
      expect(result?.lastError).toMatch(/heartbeat/i);
      expect(second.controller(ip).snapshot()).toMatchObject({
        runningVersion: '6.4.0.0',
        runningBuild: 81234,
      });
      expect(await logLines(second, ip, 'Image download succeeded')).toHaveLength(1);
      expect(await logLines(second, ip, 'Reload requested')).toHaveLength(1);
    }
  } finally {
    await second.stop();
  }
});
