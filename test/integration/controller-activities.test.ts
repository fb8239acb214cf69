/**
 * Controller activities ↔ simulated controllers over real SSH; the simulators really download from
 * real vsftpd, OpenSSH (sftp, scp), tftpd-hpa and HTTP servers on loopback. The fleet speaks
 * arubaos-ext (every protocol, servers on high ports); a plain ArubaOS 8.x controller, advertising
 * nothing, gets the documented commands only, from servers on their well-known ports. Every test
 * passes alone: one that needs an image on a partition puts it there itself.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { CancelledFailure, type ApplicationFailure } from '@temporalio/common';
import { activityEnvironment } from '../fixtures/activity-env';
import pino from 'pino';
import { utils } from 'ssh2';
import { combinedSteps } from '../../activities/combined';
import { createControllerActivities } from '../../activities/controller';
import { ControllerDriver } from '../../src/device/driver';
import type { DownloadImageInput, ImageSource, VerifiedImage } from '../../activities/types';
import { staticCredentialStore, type CredentialPolicy } from '../../src/credentials/store';
import { failureTypes } from '../../src/domain/errors';
import type { Controller, Protocol } from '../../src/domain/types';
import { startFleet, type Fleet } from '../../devkit/simulator/fleet';
import { SimulatedController } from '../../devkit/simulator/controller';
import {
  createTestImage,
  freeLoopbackAddress,
  startFtpServer,
  startHttpServer,
  startSshServer,
  startTftpServer,
  writeSparseImage,
  type TestImage,
  type LocalImageServer,
} from '../fixtures/servers';

const controllerPassword = 'Ctl-pa55-word';
/** An ed25519 pair ssh2 can parse back (its generator rarely emits one it cannot). */
function keyPair(): { private: string; public: string } {
  for (;;) {
    const pair = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(pair.private) instanceof Error)) return pair;
  }
}
const loginKey = keyPair();
const strangerKey = keyPair();
const images: Record<'72xx' | '70xx', TestImage> = {
  '72xx': createTestImage({ imageType: '72xx', version: '6.4.0.0', build: 81234, payloadSize: 256 * 1024 }),
  '70xx': createTestImage({ imageType: '70xx', version: '6.4.0.0', build: 81234, payloadSize: 256 * 1024 }),
};
const bigImage = 'ArubaOS_72xx_6.4.0.0_big';

let stateDir: string;
let fleet: Fleet;
let ftp: LocalImageServer;
let ssh: LocalImageServer;
let tftp: LocalImageServer;
let http: LocalImageServer;
/** vsftpd on port 21 and tftpd-hpa on port 69 of one loopback address, for the plain controller. */
let ftp21: LocalImageServer;
let tftp69: LocalImageServer;
let plain: SimulatedController;
const logLines: string[] = [];
const logger = pino(
  { level: 'debug' },
  new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  }),
);

/** Where the controller logins may go: the simulated fleet's SSH servers, with their keys. */
function controllerLogins(): CredentialPolicy {
  return {
    purpose: 'controller-login',
    hosts: ['127.52.0.0/24'],
    ports: [22],
    protocols: ['ssh'],
    hostKeys: fleet.inventory.flatMap((c) => (c.ssh.hostKey ? [c.ssh.hostKey] : [])),
  };
}

function plainLogin(): CredentialPolicy {
  return {
    ...controllerLogins(),
    hosts: ['127.52.1.1'],
    hostKeys: [plain.inventoryEntry('plain-controller').ssh.hostKey!],
  };
}

function activities(
  extra: {
    knownHostsFile?: string;
    timeouts?: { copyIdleMs: number };
    rebootPollMs?: number;
    sessionParkMs?: number;
  } = {},
) {
  return createControllerActivities({
    credentials: staticCredentialStore({
      controllers: { username: 'admin', password: controllerPassword, allow: controllerLogins() },
      'plain-controller': {
        username: 'admin',
        password: controllerPassword,
        enablePassword: 'En-pa55-word',
        allow: plainLogin(),
      },
      // No enable password: the login password is tried at `enable`, which this controller refuses.
      'plain-no-enable': { username: 'admin', password: controllerPassword, allow: plainLogin() },
      'bad-login': { username: 'admin', password: 'not-the-password', allow: controllerLogins() },
      'key-login': {
        username: 'admin',
        privateKey: loginKey.private,
        enablePassword: controllerPassword,
        allow: controllerLogins(),
      },
      'stranger-key': { username: 'admin', privateKey: strangerKey.private, allow: controllerLogins() },
      'image-ftp': ftp.credentials!,
      'image-ssh': ssh.credentials!,
      'image-ftp-wrong': { ...ftp.credentials!, password: 'wrong-image-pw' },
      'image-ftp21': ftp21.credentials!,
    }),
    logger,
    // vsftpd answers a wrong password only after a delay; the stall test sets its own short limit.
    timeouts: { copyIdleMs: 15_000 },
    rebootTimeoutMs: 6000,
    rebootPollMs: 300,
    ...extra,
  });
}

/** The n-th simulated controller (1-based); odd ones are A7210 (72xx), even ones A7010 (70xx). */
function controller(n: number): Controller {
  const found = fleet.inventory[n - 1];
  if (!found) throw new Error(`no controller ${n}`);
  return found;
}

function imageFor(c: Controller): TestImage {
  return c.model === 'A7210' ? images['72xx'] : images['70xx'];
}

function verified(image: TestImage): VerifiedImage {
  return { ...image.header, bytesRead: 256 };
}

function sourceOn(
  server: LocalImageServer,
  protocol: Protocol,
  file: string,
  credentialsRef?: string,
): ImageSource {
  return {
    imageFile: file,
    protocol,
    server: { host: server.host, port: server.port, ...(server.hostKey ? { hostKey: server.hostKey } : {}) },
    ...(credentialsRef ? { credentialsRef } : {}),
  };
}

/** Runs one activity in a mock activity context (heartbeats and cancellation observable on `env`). */
function run<A, R>(fn: (input: A) => Promise<R>, input: A, env = activityEnvironment()): Promise<R> {
  return env.run(fn, input);
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    return err as ApplicationFailure;
  }
  throw new Error('expected the activity to fail');
}

async function logOf(n: number): Promise<string> {
  return (await fleet.controller(controller(n).ip).log.tail(200)).join('\n');
}

/** Puts the target image into partition 1 of controller n (over FTP) unless it is already there. */
async function withImageInPartition1(n: number): Promise<void> {
  const c = controller(n);
  if (fleet.controller(c.ip).snapshot().partitions[1]?.version === '6.4.0.0') return;
  await run(activities().downloadImage, {
    controller: c,
    source: sourceOn(ftp, 'ftp', imageFor(c).name, 'image-ftp'),
    partition: 1,
    campaign: 'c1',
    attempt: 1,
  });
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'ciu-ctl-'));
  const files = { [images['72xx'].name]: images['72xx'].bytes, [images['70xx'].name]: images['70xx'].bytes };
  const wellKnown = await freeLoopbackAddress(21);
  [ftp, ssh, tftp, http, ftp21, tftp69] = await Promise.all([
    startFtpServer({ files }),
    startSshServer({ files }),
    startTftpServer({ files }),
    startHttpServer({ files }),
    startFtpServer({ files, host: wellKnown, port: 21 }),
    startTftpServer({ files, host: wellKnown, port: 69 }),
  ]);
  await writeSparseImage(join(ftp.root, bigImage), {
    imageType: '72xx',
    version: '6.4.0.0',
    build: 81234,
    payloadLength: 512 * 1024 * 1024,
  });
  fleet = await startFleet({
    count: 15,
    subnet: '127.52.0.0/24',
    models: ['A7210', 'A7010'],
    version: '6.3.1.0',
    build: 40000,
    stateDir,
    credentials: { username: 'admin', password: controllerPassword, publicKey: loginKey.public },
    controller: { rebootDelayMs: 1000, progressIntervalMs: 50, extensions: true },
    faults: {
      '127.52.0.7': { refuseDownloads: 1 },
      '127.52.0.9': { wrongModel: 'A7010' },
      '127.52.0.11': { flashFull: true },
      '127.52.0.13': { corruptDownloads: 1, stallDownloads: 0 },
    },
  });
  plain = await SimulatedController.start({
    ip: '127.52.1.1',
    model: 'A7210',
    version: '6.3.1.0',
    build: 40000,
    stateDir: join(stateDir, 'plain'),
    login: { username: 'admin', password: controllerPassword },
    enablePassword: 'En-pa55-word',
    aos: 8,
    capabilities: [],
    progressIntervalMs: 50,
  });
});

afterAll(async () => {
  await fleet?.stop();
  await plain?.stop();
  await Promise.all([ftp, ssh, tftp, http, ftp21, tftp69].map((s) => s?.stop()));
  await rm(stateDir, { recursive: true, force: true });
});

afterEach(() => {
  for (const line of logLines) expect(line).not.toContain(controllerPassword);
  for (const line of logLines) expect(line).not.toContain(ftp.password);
});

describe('inspectController', () => {
  test('reads model, running version/build and both partitions over SSH', async () => {
    const facts = await run(activities().inspectController, controller(1));
    expect(facts).toEqual({
      model: 'A7210',
      runningVersion: '6.3.1.0',
      runningBuild: 40000,
      bootPartition: 0,
      partitions: [{ partition: 0, version: '6.3.1.0', build: 40000 }, { partition: 1 }],
    });
  });

  test('a controller listed as A7210 that really is an A7010 says so', async () => {
    const facts = await run(activities().inspectController, controller(9));
    expect(facts.model).toBe('A7010');
  });
});

describe('inspectStorage: free flash from `show storage`, before any download', () => {
  test('a controller with room reports its /flash free bytes', async () => {
    const storage = await run(activities().inspectStorage, controller(1));
    expect(storage.sizeBytes).toBe(Math.round(1.8 * 1024 ** 3));
    expect(storage.freeBytes).toBeGreaterThan(1024 ** 3);
  });

  test('a full flash is seen before a transfer: 1 KiB free', async () => {
    expect((await run(activities().inspectStorage, controller(11))).freeBytes).toBe(1024);
  });
});

describe('downloadImage: the controller fetches the image itself', () => {
  test.each<[number, Protocol, () => LocalImageServer, string | undefined]>([
    [1, 'ftp', () => ftp, 'image-ftp'],
    [2, 'sftp', () => ssh, 'image-ssh'],
    [3, 'scp', () => ssh, 'image-ssh'],
    [4, 'tftp', () => tftp, undefined],
    [5, 'http', () => http, undefined],
  ])(
    'controller %i over %s: heartbeats bytes, partition written, log shows the download',
    async (n, protocol, server, ref) => {
      const c = controller(n);
      const image = imageFor(c);
      const env = activityEnvironment();
      const beats: Array<{ bytes: number; totalBytes?: number }> = [];
      env.on('heartbeat', (d: { bytes: number; totalBytes?: number }) => beats.push(d));
      const result = await run(
        activities().downloadImage,
        {
          controller: c,
          source: sourceOn(server(), protocol, image.name, ref),
          partition: 1,
          campaign: 'c1',
          attempt: 1,
        },
        env,
      );
      expect(result.bytes).toBe(image.bytes.length);
      expect(beats.at(-1)).toEqual({ bytes: image.bytes.length, totalBytes: image.bytes.length });
      expect(fleet.controller(c.ip).snapshot().partitions[1]).toEqual({
        partition: 1,
        version: '6.4.0.0',
        build: 81234,
        imageType: c.model === 'A7210' ? '72xx' : '70xx',
      });
      if (protocol === 'ftp') expect(await ftp.serverLog()).toContain(image.name);
      expect(await logOf(n)).toMatch(
        new RegExp(
          `<INFO> \\|fpapps\\| Image download succeeded: ${protocol}://127\\.0\\.0\\.1:\\d+/${image.name} version 6\\.4\\.0\\.0 build 81234 written to partition 1`,
        ),
      );
      await run(activities().verifyImageOnController, {
        controller: c,
        partition: 1,
        expected: verified(image),
      });
    },
  );

  test('a refused download fails with the controller’s own error, logged on the controller', async () => {
    const c = controller(7);
    const input: DownloadImageInput = {
      controller: c,
      source: sourceOn(ftp, 'ftp', imageFor(c).name, 'image-ftp'),
      partition: 1,
      campaign: 'c1',
      attempt: 1,
    };
    const err = await failureOf(run(activities().downloadImage, input));
    expect(err.type).toBe(failureTypes.downloadFailed);
    expect(err.message).toBe(
      'transfer refused: image server 127.0.0.1 closed the data connection (simulated fault)',
    );
    expect(await logOf(7)).toContain(
      `<ERRS> |fpapps| Image download failed: ftp://127.0.0.1:${ftp.port}/${imageFor(c).name}: transfer refused`,
    );
    // The fault fires once: the next try really downloads.
    await run(activities().downloadImage, { ...input, attempt: 2 });
    expect(fleet.controller(c.ip).snapshot().partitions[1]?.version).toBe('6.4.0.0');
  });

  test('an image for another platform is refused: ImageTypeMismatch, non-retryable', async () => {
    const err = await failureOf(
      run(activities().downloadImage, {
        controller: controller(9),
        source: sourceOn(ftp, 'ftp', images['72xx'].name, 'image-ftp'),
        partition: 1,
        campaign: 'c1',
        attempt: 1,
      }),
    );
    expect(err.type).toBe(failureTypes.imageTypeMismatch);
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toBe('image type 72xx is not supported on this platform (A7010, image type 70xx)');
    expect(fleet.controller(controller(9).ip).snapshot().partitions[1]).toEqual({ partition: 1 });
  });

  test('flash full: FlashFull, non-retryable', async () => {
    const err = await failureOf(
      run(activities().downloadImage, {
        controller: controller(11),
        source: sourceOn(ftp, 'ftp', images['72xx'].name, 'image-ftp'),
        partition: 1,
        campaign: 'c1',
        attempt: 1,
      }),
    );
    expect(err.type).toBe(failureTypes.flashFull);
    expect(err.nonRetryable).toBe(true);
    expect(await logOf(11)).toContain('not enough space on flash');
  });

  test('bytes corrupted in transit: the controller’s SHA-256 check fails the download', async () => {
    const err = await failureOf(
      run(activities().downloadImage, {
        controller: controller(13),
        source: sourceOn(ftp, 'ftp', images['72xx'].name, 'image-ftp'),
        partition: 1,
        campaign: 'c1',
        attempt: 1,
      }),
    );
    expect(err.type).toBe(failureTypes.downloadFailed);
    expect(err.message).toMatch(
      /^image integrity check failed: image ArubaOS_72xx_6\.4\.0\.0_81234 payload SHA-256 is [0-9a-f]{64}, the header says/,
    );
    expect(fleet.controller(controller(13).ip).snapshot().partitions[1]).toEqual({ partition: 1 });
  });

  test('a wrong image-server password: AuthenticationFailed from the controller, password never shown', async () => {
    const err = await failureOf(
      run(activities().downloadImage, {
        controller: controller(13),
        source: sourceOn(ftp, 'ftp', images['72xx'].name, 'image-ftp-wrong'),
        partition: 1,
        campaign: 'c1',
        attempt: 1,
      }),
    );
    expect(err.message).toMatch(/^login refused by image server/);
    expect(err.type).toBe(failureTypes.authenticationFailed);
    expect(err.message).not.toContain('wrong-image-pw');
    expect(await logOf(13)).not.toContain('wrong-image-pw');
  });

  test('a stalled transfer is noticed (no output for copyIdleMs) and aborted on the controller', async () => {
    const c = controller(13);
    await fleet.controller(c.ip).setFaults({ stallDownloads: 1 });
    const err = await failureOf(
      run(activities({ timeouts: { copyIdleMs: 2000 } }).downloadImage, {
        controller: c,
        source: sourceOn(ftp, 'ftp', images['72xx'].name, 'image-ftp'),
        partition: 1,
        campaign: 'c1',
        attempt: 1,
      }),
    );
    expect(err.type).toBe(failureTypes.downloadFailed);
    expect(err.message).toBe('controller 127.52.0.13:22 printed nothing for 2 s during "copy ftp:"');
    await eventually(async () => (await logOf(13)).includes('transfer aborted by user'));
  });

  test('cancelling the activity aborts the controller’s real transfer mid-way', async () => {
    const c = controller(1);
    const env = activityEnvironment();
    const beats: number[] = [];
    env.on('heartbeat', (d: { bytes: number }) => {
      beats.push(d.bytes);
      if (d.bytes > 0) env.cancel();
    });
    const err = await failureOf(
      run(
        activities().downloadImage,
        {
          controller: c,
          source: sourceOn(ftp, 'ftp', bigImage, 'image-ftp'),
          partition: 0,
          campaign: 'c1',
          attempt: 1,
        },
        env,
      ),
    );
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(Math.max(...beats)).toBeLessThan(512 * 1024 * 1024);
    await eventually(async () =>
      (await logOf(1)).includes(
        `Image download failed: ftp://127.0.0.1:${ftp.port}/${bigImage}: transfer aborted by user`,
      ),
    );
    expect(fleet.controller(c.ip).snapshot().partitions[0]?.version).toBe('6.3.1.0');
  });
});

describe('the combined activities: one login each, kept for the next step on the same worker', () => {
  /** The look, then the copy with its check, on one worker's activities; the simulator's accepted logins after each. */
  async function lookThenCopy(ip: number, sessionParkMs?: number): Promise<number[]> {
    const c = controller(ip);
    const image = imageFor(c);
    const simulated = fleet.controller(c.ip);
    const { oneLogin, ...steps } = activities({ sessionParkMs });
    const { lookBeforeDownload, downloadAndVerifyImage } = combinedSteps({ ...steps, oneLogin });
    const before = simulated.logins;
    const look = await run(lookBeforeDownload, {
      controller: c,
      storage: true,
      target: { version: image.header.version, build: image.header.build },
    });
    expect(look.storage?.freeBytes).toBeGreaterThan(0);
    const afterLook = simulated.logins - before;
    await run(downloadAndVerifyImage, {
      controller: { ...c },
      source: sourceOn(ftp, 'ftp', image.name, 'image-ftp'),
      partition: 1,
      campaign: 'one-login',
      attempt: 1,
      expected: verified(image),
    });
    expect(simulated.snapshot().partitions[1]?.version).toBe(image.header.version);
    return [afterLook, simulated.logins - before];
  }

  test('the look (inspect and show storage) logs in once and leaves its session to the copy with its check, which logs in no more', async () => {
    expect(await lookThenCopy(14)).toEqual([1, 1]);
  });

  test('with sessions not kept (sessionParkMs 0) each combined activity logs in once', async () => {
    expect(await lookThenCopy(15, 0)).toEqual([1, 2]);
  });
});

describe('verifyImageOnController', () => {
  test('a partition that does not hold the expected image fails IntegrityCheckFailed, naming what differs', async () => {
    await withImageInPartition1(3);
    const c = controller(3);
    const expected = { ...verified(imageFor(c)), build: 99999, payloadSha256: '0'.repeat(64) };
    const err = await failureOf(
      run(activities().verifyImageOnController, { controller: c, partition: 1, expected }),
    );
    expect(err.type).toBe(failureTypes.integrityCheckFailed);
    expect(err.message).toContain('build is 81234, expected 99999');
    expect(err.message).toContain(
      `payload SHA-256 is ${imageFor(c).header.payloadSha256}, expected ${'0'.repeat(64)}`,
    );
  });
});

describe('logOnController', () => {
  test('writes one line (quotes and newlines neutralised) into the controller’s own log, read back with `show log`', async () => {
    await run(activities().logOnController, {
      controller: controller(2),
      level: 'error',
      message: 'ciu c1: download failed "550 no such file"\nattempt 3',
    });
    const c = controller(2);
    const driver = await ControllerDriver.open({
      host: c.ssh.host,
      port: c.ssh.port,
      hostKey: c.ssh.hostKey,
      username: 'admin',
      password: controllerPassword,
    });
    try {
      expect((await driver.showLog(5)).at(-1)).toMatchObject({
        severity: 'ERRS',
        process: 'ciu',
        message: "ciu c1: download failed '550 no such file' attempt 3",
      });
    } finally {
      driver.close();
    }
  });
});

describe('rebootController', () => {
  test('boots the new partition and returns once SSH answers, with what it runs and (asked) its health view', async () => {
    await withImageInPartition1(1);
    const c = controller(1);
    await expect(
      run(activities().rebootController, { controller: c, partition: 1, readHealth: true }),
    ).resolves.toEqual({
      runningVersion: '6.4.0.0',
      runningBuild: 81234,
      health: expect.objectContaining({ found: true }),
    });
    const facts = await run(activities().inspectController, c);
    expect(facts).toMatchObject({ runningVersion: '6.4.0.0', runningBuild: 81234, bootPartition: 1 });
    expect(await logOf(1)).toContain('System booted from partition 1, running 6.4.0.0 build 81234');
  });

  test('its return is seen by its SSH banner within moments of the boot, not at the next fixed poll', async () => {
    await withImageInPartition1(8);
    const c = controller(8);
    // The controller is down for 1 s; probes back off to at most 10 s apart. A fixed 10 s poll would
    // return about 9 s after the boot; the probes see it within a few seconds even on a loaded machine.
    await run(activities({ rebootPollMs: 10_000 }).rebootController, {
      controller: c,
      partition: 1,
      timeoutMs: 30_000,
    });
    const returned = Date.now();
    const booted = /^(\S+) .*System booted from partition 1/m.exec(await logOf(8))?.[1];
    expect(booted).toBeDefined();
    expect(returned - Date.parse(booted!)).toBeLessThan(6000);
  });

  test('a controller still answering right after `reload` is not mistaken for one already back', async () => {
    await withImageInPartition1(2);
    const c = controller(2);
    const sim = fleet.controller(c.ip);
    await sim.setFaults({ slowShutdownMs: 1500 });
    // Its uptime must clearly exceed the time since reload for the check to tell old from new.
    await new Promise((r) => setTimeout(r, 3000));
    await run(activities().rebootController, { controller: c, partition: 1 });
    const facts = await run(activities().inspectController, c);
    expect(facts).toMatchObject({ runningVersion: '6.4.0.0', bootPartition: 1 });
  });

  test('a controller that boots its old partition comes back on the old version', async () => {
    await withImageInPartition1(3);
    const c = controller(3);
    await fleet.controller(c.ip).setFaults({ bootOldVersion: true });
    await expect(run(activities().rebootController, { controller: c, partition: 1 })).resolves.toEqual({
      runningVersion: '6.3.1.0',
      runningBuild: 40000,
    });
    const facts = await run(activities().inspectController, c);
    expect(facts).toMatchObject({ runningVersion: '6.3.1.0', runningBuild: 40000, bootPartition: 0 });
  });

  test('booting an empty partition is refused before any reload: IntegrityCheckFailed', async () => {
    const c = controller(6);
    const err = await failureOf(run(activities().rebootController, { controller: c, partition: 1 }));
    expect(err.type).toBe(failureTypes.integrityCheckFailed);
    expect(err.message).toBe(
      'controller rejected "boot system partition 1": Error: partition 1 does not contain a valid image',
    );
    expect(await logOf(6)).not.toContain('Reload requested');
  });

  test('a controller that never comes back: RebootTimeout, non-retryable, within the deadline', async () => {
    await withImageInPartition1(5);
    const c = controller(5);
    await fleet.controller(c.ip).setFaults({ neverComeBack: true });
    const started = Date.now();
    const err = await failureOf(
      run(activities().rebootController, { controller: c, partition: 1, timeoutMs: 3000 }),
    );
    expect(err.type).toBe(failureTypes.rebootTimeout);
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toMatch(
      /^controller 127\.52\.0\.5 did not come back after reload: waited \d+ s \(limit 3 s; /,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('SSH trust and login', () => {
  test('a host key that differs from the pinned one: HostKeyMismatch, non-retryable', async () => {
    const c = { ...controller(2), ssh: { ...controller(2).ssh, hostKey: controller(4).ssh.hostKey } };
    const err = await failureOf(run(activities().inspectController, c));
    expect(err.type).toBe(failureTypes.hostKeyMismatch);
    expect(err.nonRetryable).toBe(true);
  });

  test('without a pinned key the worker’s known_hosts decides; a host not in it is refused', async () => {
    const knownHostsFile = join(stateDir, 'known_hosts');
    await writeFile(knownHostsFile, fleet.knownHosts);
    const unpinned = { ...controller(2), ssh: { host: controller(2).ssh.host, port: 22 } };
    const facts = await run(activities({ knownHostsFile }).inspectController, unpinned);
    expect(facts.model).toBe('A7010');
    const emptyKnownHosts = join(stateDir, 'empty_known_hosts');
    await writeFile(emptyKnownHosts, '');
    const err = await failureOf(
      run(activities({ knownHostsFile: emptyKnownHosts }).inspectController, unpinned),
    );
    expect(err.type).toBe(failureTypes.hostKeyMismatch);
    expect(err.message).toContain('is not in known_hosts file');
  });

  test('a refused login: AuthenticationFailed, non-retryable, no password in the message', async () => {
    const err = await failureOf(
      run(activities().inspectController, { ...controller(2), credentialsRef: 'bad-login' }),
    );
    expect(err.type).toBe(failureTypes.authenticationFailed);
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toBe('controller 127.52.0.2:22 refused the login of user admin');
  });

  test('a key login works; a key the controller does not know is refused', async () => {
    const facts = await run(activities().inspectController, {
      ...controller(4),
      credentialsRef: 'key-login',
    });
    expect(facts.model).toBe('A7010');
    const err = await failureOf(
      run(activities().inspectController, { ...controller(4), credentialsRef: 'stranger-key' }),
    );
    expect(err.type).toBe(failureTypes.authenticationFailed);
  });

  test('an unreachable controller: ControllerUnreachable, retryable', async () => {
    const c = controller(6);
    await fleet.controller(c.ip).setFaults({ unreachable: true });
    const err = await failureOf(run(activities().inspectController, c));
    expect(err.type).toBe(failureTypes.controllerUnreachable);
    expect(err.nonRetryable).toBe(false);
    await fleet.controller(c.ip).setFaults({ unreachable: false });
    await run(activities().inspectController, c);
  });

  test('an injection attempt in the image file name is refused before anything is sent', async () => {
    const err = await failureOf(
      run(activities().downloadImage, {
        controller: controller(2),
        source: sourceOn(ftp, 'ftp', 'x.img system: partition 0\nreload', 'image-ftp'),
        partition: 1,
        campaign: 'c1',
        attempt: 1,
      }),
    );
    expect(err.type).toBe(failureTypes.invalidInput);
    expect(err.message).toMatch(/^imageFile must be a file name/);
  });
});

describe('a plain ArubaOS 8.x controller: documented commands only', () => {
  const entry = (): Controller => plain.inventoryEntry('plain-controller');
  const image = () => images['72xx'];

  test('show storage works on a plain controller too', async () => {
    expect((await run(activities().inspectStorage, entry())).freeBytes).toBeGreaterThan(1024 ** 3);
  });

  test('user mode, enable with its own password, no paging, 8.x prompts: inspect works', async () => {
    const facts = await run(activities().inspectController, entry());
    expect(facts).toMatchObject({ model: 'A7210', runningVersion: '6.3.1.0', runningBuild: 40000 });
  });

  test.each<[Protocol, () => LocalImageServer, string | undefined]>([
    ['ftp', () => ftp21, 'image-ftp21'],
    ['tftp', () => tftp69, undefined],
  ])(
    '%s from its well-known port: real-syntax copy, then checked by show image version alone',
    async (protocol, server, ref) => {
      const source = { ...sourceOn(server(), protocol, image().name, ref) };
      const result = await run(activities().downloadImage, {
        controller: entry(),
        source,
        partition: 1,
        campaign: 'c1',
        attempt: 1,
      });
      expect(result.bytes).toBe(image().bytes.length);
      expect((await plain.log.tail(5)).join('\n')).toContain(
        `Image download succeeded: ${protocol}://${server().host}/${image().name}`,
      );
      await run(activities().verifyImageOnController, {
        controller: entry(),
        partition: 1,
        // Without image-sha256 the payload digest cannot be read back: only version, build and signature count.
        expected: { ...verified(image()), payloadSha256: '0'.repeat(64) },
      });
      const err = await failureOf(
        run(activities().verifyImageOnController, {
          controller: entry(),
          partition: 1,
          expected: { ...verified(image()), build: 99999 },
        }),
      );
      expect(err.type).toBe(failureTypes.integrityCheckFailed);
      expect(err.message).toBe(
        `image on 127.52.1.1 partition 1 failed its check: build is 81234, expected 99999`,
      );
    },
  );

  test('an image server on another port is refused before anything is sent, naming the field', async () => {
    const err = await failureOf(
      run(activities().downloadImage, {
        controller: entry(),
        source: sourceOn(ftp, 'ftp', image().name, 'image-ftp'),
        partition: 1,
        campaign: 'c1',
        attempt: 1,
      }),
    );
    expect(err.type).toBe(failureTypes.invalidInput);
    expect(err.message).toBe("server.port must be 21: the controller's copy command has no port clause");
  });

  test('logOnController writes nothing and says so: the controller logged its own failed copy', async () => {
    const before = await plain.log.tail(500);
    await run(activities().logOnController, {
      controller: entry(),
      level: 'error',
      message: 'ciu c1: failed',
    });
    expect(await plain.log.tail(500)).toEqual(before);
    expect(logLines.join('')).toContain('controller log line unsupported by this controller');
  });

  test('a wrong enable password (the login password, by default): AuthenticationFailed, non-retryable', async () => {
    const err = await failureOf(
      run(activities().inspectController, { ...entry(), credentialsRef: 'plain-no-enable' }),
    );
    expect(err.type).toBe(failureTypes.authenticationFailed);
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toBe('controller 127.52.1.1:22 refused "enable" for user admin');
  });
});
