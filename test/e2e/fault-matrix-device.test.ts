/**
 * The device half of issue 11's fault matrix, end to end: a real Temporal dev server, real ciu worker
 * processes (`workers/main.ts`, killed with SIGKILL or asked to stop with SIGTERM), a real vsftpd and
 * simulated controllers over real SSH. Each controller has its own fault; the test asserts its end
 * state and, from the controller's own log, exactly how many downloads it started and how many
 * reloads it received — a device action is never doubled by a crash or a retry.
 *
 * Intervals are short (stall 12 s, reboot-timeout 20 s, retry-interval 5 s) so the file stays well
 * under three minutes; it uses its own loopback subnet 127.73.0.0/16, free ports for everything but
 * the image servers (port 21 on their own addresses, as the dialect requires).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalTemporal } from '../../devkit/stack';
import { startFleet, type Fleet } from '../../devkit/simulator/fleet';
import type { ControllerStatus } from '../../src/domain/status';
import type { CampaignConfig } from '../../src/domain/types';
import { masterUpgrade } from '../../workflows';
import { controllerWorkflowId, taskQueue } from '../../workflows/definitions';
import { controllersByIp, waitForStatus } from '../fixtures/campaign';
import { fleetLogin } from '../fixtures/credentials';
import { eventually } from '../fixtures/eventually';
import { writeTestMessageKeys } from '../fixtures/processes';
import { createTestImage, startFtpServer, testImageKeyPem, type LocalImageServer } from '../fixtures/servers';
import { startTestTemporal } from '../fixtures/temporal';

jest.setTimeout(170_000);

const controllerLogin = { username: 'admin', password: 'matrix-Controller-pw' };
const image = createTestImage({
  imageType: '72xx',
  version: '6.4.0.0',
  build: 81234,
  payloadSize: 256 * 1024,
});
const ftpHost = '127.73.0.1';
const subnet = '127.73.1.0/29';
/** One controller per fault. */
const ip = {
  killedDownloading: '127.73.1.1',
  killedRebooting: '127.73.1.2',
  neverComesBack: '127.73.1.3',
  oldImage: '127.73.1.4',
  blackhole: '127.73.1.5',
  vanishesMidCopy: '127.73.1.6',
} as const;
const stallMs = 12_000;
const shutdownGraceMs = 2_000;
const shutdownForceMs = 8_000;

let dir: string;
let temporal: LocalTemporal;
let ftp: LocalImageServer;
/** Serves a newer image for the SIGTERM case, whose controller already runs `image` by then. */
let ftp2: LocalImageServer;
const newer = createTestImage({
  imageType: '72xx',
  version: '6.5.0.0',
  build: 90000,
  payloadSize: 64 * 1024,
});
let fleet: Fleet;
const workers: ChildProcess[] = [];

/** `workers/main.ts` as its own process, with short stall and shutdown settings. */
async function spawnWorker(): Promise<ChildProcess> {
  const credentialsFile = join(dir, 'credentials.json');
  await writeFile(
    credentialsFile,
    JSON.stringify({
      controllers: fleetLogin(controllerLogin, [fleet]),
      'image-ftp': ftp.credentials,
      'image-ftp-2': ftp2.credentials,
    }),
    { mode: 0o600 },
  );
  const imageKeyFile = join(dir, 'image-key.pub');
  await writeFile(imageKeyFile, testImageKeyPem);
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
    cwd: join(__dirname, '..', '..'),
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: temporal.dev.address,
      CIU_CREDENTIALS_FILE: credentialsFile,
      CIU_MESSAGE_KEYS: writeTestMessageKeys(join(dir, 'message-keys.json')),
      CIU_DOWNLOAD_STALL_TIMEOUT: `${stallMs}ms`,
      CIU_SHUTDOWN_GRACE: `${shutdownGraceMs}ms`,
      CIU_SHUTDOWN_FORCE: `${shutdownForceMs}ms`,
      CIU_LOG_LEVEL: 'error',
      CIU_IMAGE_KEYS: imageKeyFile,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  workers.push(child);
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function kill(child: ChildProcess): Promise<void> {
  const gone = exited(child);
  child.kill('SIGKILL');
  await gone;
}

/** Lines of a controller's own log containing `text`. */
async function logged(at: string, text: string): Promise<string[]> {
  return (await fleet.controller(at).log.tail(1000)).filter((line) => line.includes(text));
}

/** Downloads started and reloads received, as the controller logged them. */
async function deviceActions(at: string): Promise<{ downloads: number; reloads: number }> {
  return {
    downloads: (await logged(at, 'Image download started')).length,
    reloads: (await logged(at, 'Reload requested')).length,
  };
}

function config(targets: string[]): CampaignConfig {
  return {
    inventory: fleet.inventory,
    targets,
    profile: {
      models: {
        A7210: {
          imageFile: image.name,
          server: { host: ftp.host, port: ftp.port },
          protocol: 'ftp',
          credentialsRef: 'image-ftp',
        },
      },
      autoboot: true,
      maxDownloads: 10,
      retryInterval: '5s',
      quickTries: 2,
      quickTryBackoff: '1s',
      partition: 'non-boot',
      rebootTimeout: '20s',
    },
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ciu-fault-matrix-'));
  temporal = await startTestTemporal({ dbFile: join(dir, 'temporal.db') });
  // ArubaOS's copy has no port clause: each image server is on 21 of its own address.
  ftp = await startFtpServer({ files: { [image.name]: image.bytes }, host: ftpHost, port: 21 });
  ftp2 = await startFtpServer({ files: { [newer.name]: newer.bytes }, host: '127.73.0.2', port: 21 });
  fleet = await startFleet({
    count: 6,
    subnet,
    models: ['A7210'],
    version: '6.3.1.0',
    build: 40000,
    faults: {
      // Its first transfer hangs half-way, so it is surely in flight when the worker dies.
      [ip.killedDownloading]: { stallDownloads: 1 },
      [ip.neverComesBack]: { neverComeBack: true },
      [ip.oldImage]: { bootOldVersion: true },
      // These two get their real fault once the second worker runs (see the test).
      [ip.blackhole]: { unreachable: true },
      [ip.vanishesMidCopy]: { unreachable: true },
    },
    stateDir: join(dir, 'fleet'),
    credentials: controllerLogin,
    // Long enough that the worker is killed while it waits for the reloaded controllers.
    controller: { rebootDelayMs: 8000, progressIntervalMs: 50 },
  });
});

afterAll(async () => {
  await Promise.all(workers.map(kill));
  await temporal?.stop();
  await Promise.all([fleet?.stop(), ftp?.stop(), ftp2?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('worker SIGKILLed mid-download and mid-reboot-wait; stalls, blackhole, no return, old image: every controller ends right and no device action is doubled', async () => {
  const doomed = await spawnWorker();
  const handle = await temporal.client.workflow.start(masterUpgrade, {
    taskQueue,
    workflowId: `fault-matrix-device-${process.pid}`,
    args: [config([subnet])],
  });

  // The worker dies with one download in flight and three controllers reloading.
  await waitForStatus(
    handle,
    (c) =>
      c[ip.killedDownloading]?.state === 'downloading' &&
      [ip.killedRebooting, ip.neverComesBack].every((at) => c[at]?.state === 'rebooting'),
  );
  await eventually(async () => {
    const reloaded = await Promise.all(
      [ip.killedRebooting, ip.neverComesBack].map(async (at) => (await deviceActions(at)).reloads === 1),
    );
    return reloaded.every(Boolean);
  });
  await kill(doomed);
  await spawnWorker();
  await fleet.controller(ip.blackhole).setFaults({ unreachable: false, blackhole: true });
  await fleet.controller(ip.vanishesMidCopy).setFaults({ unreachable: false, stallDownloads: 1 });

  // A copy that goes silent is given up after the stall time, as one failed try.
  await waitForStatus(handle, (c) => /^DownloadStalled: /.test(c[ip.vanishesMidCopy]?.lastError ?? ''));

  const end = await waitForStatus(
    handle,
    (c) =>
      [ip.killedDownloading, ip.killedRebooting, ip.vanishesMidCopy].every(
        (at) => c[at]?.state === 'upgraded',
      ) &&
      [ip.neverComesBack, ip.oldImage].every((at) => c[at]?.state === 'failed') &&
      c[ip.blackhole]?.state === 'waiting-retry' &&
      /^ControllerUnreachable: /.test(c[ip.blackhole]?.lastError ?? ''),
    150_000,
  );
  const byIp = Object.fromEntries(end.controllers.map((c) => [c.ip, c]));

  expect(byIp[ip.neverComesBack]?.lastError).toMatch(
    /^RebootTimeout: controller 127\.73\.1\.3 did not come back after reload: waited \d+ s \(limit 20 s/,
  );
  expect(byIp[ip.oldImage]?.lastError).toMatch(
    /^VersionMismatchAfterReboot: after reboot the controller runs 6\.3\.1\.0/,
  );
  expect(byIp[ip.blackhole]?.lastError).toMatch(/handshake/i);

  expect({
    killedDownloading: await deviceActions(ip.killedDownloading),
    killedRebooting: await deviceActions(ip.killedRebooting),
    neverComesBack: await deviceActions(ip.neverComesBack),
    oldImage: await deviceActions(ip.oldImage),
    blackhole: await deviceActions(ip.blackhole),
    vanishesMidCopy: await deviceActions(ip.vanishesMidCopy),
  }).toEqual({
    killedDownloading: { downloads: 2, reloads: 1 },
    killedRebooting: { downloads: 1, reloads: 1 },
    neverComesBack: { downloads: 1, reloads: 1 },
    oldImage: { downloads: 1, reloads: 1 },
    blackhole: { downloads: 0, reloads: 0 },
    vanishesMidCopy: { downloads: 2, reloads: 1 },
  });
  for (const at of [ip.killedDownloading, ip.killedRebooting, ip.vanishesMidCopy])
    expect(fleet.controller(at).snapshot()).toMatchObject({ runningVersion: '6.4.0.0', runningBuild: 81234 });
  expect(fleet.controller(ip.oldImage).snapshot()).toMatchObject({ runningVersion: '6.3.1.0' });
  // The stalled copy was abandoned on the device (Ctrl-C), not left running.
  expect(await logged(ip.vanishesMidCopy, 'transfer aborted by user')).toHaveLength(1);
  await handle.terminate('test over: the blackholed controller never finishes');
  // Children outlive their master (ABANDON, for continue-as-new): the blackholed one would go on
  // trying 15 s SSH handshakes on the next test's worker.
  await temporal.client.workflow
    .getHandle(controllerWorkflowId(handle.workflowId, ip.blackhole))
    .terminate('test over');
  await Promise.all(workers.map(kill));
});

test('a worker asked to stop (SIGTERM) mid-download cancels the copy on the controller and exits within its force time', async () => {
  const at = ip.killedRebooting;
  await fleet.controller(at).setFaults({ stallDownloads: 1 });
  const worker = await spawnWorker();
  const campaign = config([at]);
  const handle = await temporal.client.workflow.start(masterUpgrade, {
    taskQueue,
    workflowId: `fault-matrix-sigterm-${process.pid}`,
    args: [
      {
        ...campaign,
        profile: {
          ...campaign.profile,
          models: {
            A7210: {
              imageFile: newer.name,
              server: { host: ftp2.host, port: ftp2.port },
              protocol: 'ftp',
              credentialsRef: 'image-ftp-2',
            },
          },
        },
      },
    ],
  });
  await waitForStatus(handle, (c) => c[at]?.state === 'downloading');
  await eventually(async () => (await logged(at, 'Image download started')).length === 2);

  const askedAt = Date.now();
  worker.kill('SIGTERM');
  await exited(worker);
  const tookMs = Date.now() - askedAt;

  expect({ code: worker.exitCode, signal: worker.signalCode }).toEqual({ code: 0, signal: null });
  expect(tookMs).toBeLessThan(shutdownForceMs + 3000);
  // The device action was cancelled, not left running on the controller.
  expect(await logged(at, 'transfer aborted by user')).toHaveLength(1);
  await handle.terminate('test over');
});

test('a worker SIGKILLed while it inspects a silent controller: the next worker inspects it again in seconds, not after the 2-minute start-to-close timeout', async () => {
  const at = ip.blackhole;
  await fleet.controller(at).setFaults({ unreachable: false, blackhole: true });
  const doomed = await spawnWorker();
  const handle = await temporal.client.workflow.start(masterUpgrade, {
    taskQueue,
    workflowId: `fault-matrix-inspect-${process.pid}`,
    args: [config([at])],
  });
  await waitForStatus(handle, (c) => c[at]?.state === 'pending');
  // The SSH handshake with a blackholed controller waits 15 s, so the kill lands mid-inspect.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  await kill(doomed);
  await fleet.controller(at).setFaults({ blackhole: false });
  await spawnWorker();

  await waitForStatus(handle, (c) => c[at]?.state === 'upgraded', 60_000);
  expect(await deviceActions(at)).toEqual({ downloads: 1, reloads: 1 });
  await Promise.all(workers.map(kill));
});

test("a worker asked to stop (SIGTERM) while an inspect waits for a blackholed controller's handshake exits 0 before its force time; the next worker upgrades the controller", async () => {
  const at = ip.blackhole;
  const before = await deviceActions(at);
  await fleet.controller(at).setFaults({ unreachable: false, blackhole: true });
  const worker = await spawnWorker();
  const handle = await temporal.client.workflow.start(masterUpgrade, {
    taskQueue,
    workflowId: `fault-matrix-inspect-sigterm-${process.pid}`,
    args: [config([at])],
  });
  // The inspect's TCP connection is open and its SSH handshake (15 s deadline) waits for the silent controller.
  await eventually(async () => fleet.controller(at).heldConnections > 0);

  const askedAt = Date.now();
  worker.kill('SIGTERM');
  await exited(worker);
  const tookMs = Date.now() - askedAt;

  expect({ code: worker.exitCode, signal: worker.signalCode }).toEqual({ code: 0, signal: null });
  expect(tookMs).toBeLessThan(shutdownForceMs);
  // The stop is not the controller's failure: the next worker looks again and finishes it (up-to-date
  // when the test before upgraded it; upgraded, with one copy and one reload, when it runs alone).
  await fleet.controller(at).setFaults({ blackhole: false });
  await spawnWorker();
  const ended = (c: Record<string, ControllerStatus>) =>
    ['upgraded', 'up-to-date'].includes(c[at]?.state ?? '');
  const done = controllersByIp(await waitForStatus(handle, ended, 60_000))[at];
  expect(done?.lastError ?? '').not.toMatch(/stopping|WorkerStopp/);
  const added = done?.state === 'upgraded' ? 1 : 0;
  expect(await deviceActions(at)).toEqual({
    downloads: before.downloads + added,
    reloads: before.reloads + added,
  });
  await Promise.all(workers.map(kill));
});
