/**
 * The simulator held to a client no one here wrote: netmiko's `aruba_os` driver (PyPI, installed
 * into .tools/venv by `scripts/setup --test`), at its default settings, drives a simulated 6.x and
 * 8.x controller through a session (enable, no paging, show commands, config mode, the real
 * `copy ftp:` answering `Password:`); the controller really fetches from vsftpd on port 21. The
 * ciu driver runs the same sequence against both prompt styles.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ControllerDriver } from '../../src/device/driver';
import { parseShowStorage, parseSwitchHealth } from '../../src/device/parsers';
import { dialects } from '../../src/domain/dialects';
import { SimulatedController } from '../../devkit/simulator/controller';
import {
  createTestImage,
  freeLoopbackAddress,
  startFtpServer,
  type LocalImageServer,
} from '../fixtures/servers';

const run = promisify(execFile);
const python = join(__dirname, '../../.tools/venv/bin/python');
const script = join(__dirname, '../fixtures/netmiko/aruba_os_session.py');
const login = { username: 'admin', password: 'Ctl-pa55-word' };
const enablePassword = 'En-pa55-word';
const image = createTestImage({
  imageType: '72xx',
  version: '6.5.1.0',
  build: 66000,
  payloadSize: 64 * 1024,
});

let stateDir: string;
let ftp: LocalImageServer;
const controllers: Partial<Record<6 | 8, SimulatedController>> = {};

interface Step {
  command: string;
  output: string;
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'ciu-netmiko-'));
  ftp = await startFtpServer({
    host: await freeLoopbackAddress(21),
    port: 21,
    files: { [image.name]: image.bytes },
  });
  for (const [aos, ip] of [
    [6, '127.53.0.6'],
    [8, '127.53.0.8'],
  ] as const)
    controllers[aos] = await SimulatedController.start({
      ip,
      model: 'A7210',
      version: '6.4.4.0',
      build: 60000,
      stateDir: join(stateDir, String(aos)),
      login,
      enablePassword,
      aos,
      progressIntervalMs: 20,
    });
});

afterAll(async () => {
  await Promise.all(Object.values(controllers).map((c) => c.stop()));
  await ftp?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

async function netmikoSession(aos: 6 | 8): Promise<{ steps: Step[]; sessionLog: string }> {
  const controller = controllers[aos] as SimulatedController;
  // CIU_NETMIKO_LOG_DIR keeps netmiko's session logs (image-server password masked) after the run.
  const sessionLogFile = join(process.env.CIU_NETMIKO_LOG_DIR ?? stateDir, `netmiko-${aos}.log`);
  const args = {
    host: controller.ip,
    port: controller.port,
    ...login,
    secret: enablePassword,
    session_log: sessionLogFile,
    copy: { host: ftp.host, user: ftp.username, password: ftp.password, file: image.name, partition: 1 },
  };
  const { stdout } = await run(python, [script, JSON.stringify(args)], { timeout: 120_000 });
  const sessionLog = (await readFile(sessionLogFile, 'utf8')).replaceAll(ftp.password as string, '********');
  await writeFile(sessionLogFile, sessionLog);
  return { ...(JSON.parse(stdout) as { steps: Step[] }), sessionLog };
}

describe.each([6, 8] as const)('netmiko aruba_os against a simulated ArubaOS %i.x controller', (aos) => {
  const host = '(A7210-127.53.0.' + String(aos) + ')';
  const node = aos === 8 ? ' [mynode]' : '';

  test('every reply lands on its own command, in the prompt style of its release', async () => {
    const { steps, sessionLog } = await netmikoSession(aos);
    const [
      prompt,
      version,
      images,
      storage,
      config,
      configPrompt,
      end,
      endPrompt,
      copy,
      copied,
      after,
      switches,
    ] = steps.map((s) => s.output);
    expect(prompt).toBe(`${host}${node} #`);
    expect(version).toMatch(
      /^Aruba Operating System Software\.\nArubaOS \(MODEL: Aruba7210\), Version 6\.4\.4\.0\n/,
    );
    expect(version).not.toMatch(/Partition|--More--|#\s*$/);
    expect(images).toMatch(
      /^-+\nPartition {15}: 0:0 \(\/dev\/usb\/flash1\) \*\*Default boot\*\* \*\*Running\*\*\n/,
    );
    expect(images).not.toMatch(/MODEL|--More--/);
    // `show storage` as netmiko reads it is what ciu's parser reads: the /flash row, with room.
    expect(storage).toMatch(/^Filesystem +Size +Used +Available +Use% +Mounted on\n/);
    expect(parseShowStorage(storage ?? '', '/flash').availableBytes).toBeGreaterThan(1024 ** 3);
    expect(config).toContain('configure term');
    expect(configPrompt).toBe(`${host}${node} (config) #`);
    expect(end).toContain('end');
    expect(endPrompt).toBe(`${host}${node} #`);
    expect(copy).toMatch(/Password:\s*$/);
    expect(copied).toMatch(/Image upgraded successfully/);
    expect(after).toContain('Software Version        : ArubaOS 6.5.1.0');
    expect(controllers[aos]?.snapshot().partitions[1]).toMatchObject({ version: '6.5.1.0', build: 66000 });
    // The post-check's health view as netmiko reads it is what ciu judges: its own row, up.
    expect(switches).toMatch(/^\nAll Switches\n/);
    expect(
      parseSwitchHealth(switches ?? '', `127.53.0.${aos}`, dialects.arubaos.health.failedConfigStates),
    ).toEqual({
      found: true,
      status: 'up',
      configState: 'UPDATE SUCCESSFUL',
    });
    expect(sessionLog).toContain('no paging');
    expect(sessionLog).not.toContain(ftp.password);
    expect(sessionLog).not.toContain(enablePassword);
  });

  test('the ciu driver runs the same sequence: enable, no paging, facts, copy', async () => {
    const controller = controllers[aos] as SimulatedController;
    const driver = await ControllerDriver.open({
      host: controller.ip,
      port: controller.port,
      hostKey: controller.hostKeyFingerprint,
      ...login,
      enablePassword,
    });
    try {
      expect(await driver.facts()).toMatchObject({ model: 'A7210', version: '6.4.4.0', build: 60000 });
      expect((await driver.storage()).mount).toBe('/flash');
      const copied = await driver.copy(
        { protocol: 'ftp', host: ftp.host, port: 21, user: ftp.username, file: image.name, partition: 0 },
        ftp.password,
      );
      expect(copied.bytes).toBe(image.bytes.length);
      expect((await driver.partitions())[0]).toMatchObject({ version: '6.5.1.0', build: 66000 });
      expect(await driver.health(controller.ip)).toMatchObject({ found: true, status: 'up' });
    } finally {
      driver.close();
    }
  });
});
