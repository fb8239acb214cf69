import { ApplicationFailure, Context } from '@temporalio/activity';
import { UnknownCredentialsError, type CredentialStore, type Credentials } from '../src/credentials/store';
import { failureTypes, isPermanentFailureType } from '../src/domain/errors';
import type { Controller } from '../src/domain/types';
import { loginProtocols } from '../src/domain/rules';
import { ControllerDriver, type DriverTimeouts } from '../src/device/driver';
import { DeviceError } from '../src/device/errors';
import { ReplyFormatError } from '../src/device/parsers';
import { CommandValueError, checkHost, checkPort } from '../src/device/validate';
import type { Logger } from '../src/logging';
import type {
  ControllerFacts,
  ControllerLogInput,
  DownloadImageInput,
  DownloadImageResult,
  RebootInput,
  UpgradeActivities,
  VerifyOnControllerInput,
} from './types';

/** What the controller activities need from the worker. */
export interface ControllerActivityDeps {
  credentials: CredentialStore;
  logger: Logger;
  /** known_hosts for controllers without a pinned host key. Default: env CIU_KNOWN_HOSTS. */
  knownHostsFile?: string;
  /** Per-command deadlines (defaults in src/device/driver.ts) and the SSH connect deadline (default 15 s). */
  timeouts?: DriverTimeouts & { connectMs?: number };
  /** How long a reloaded controller may stay silent when the workflow gives no timeoutMs. Default 10 minutes. */
  rebootTimeoutMs?: number;
  /** Pause between SSH polls while a controller reboots. Default 5 s. */
  rebootPollMs?: number;
}

type ControllerActivities = Pick<
  UpgradeActivities,
  'inspectController' | 'downloadImage' | 'verifyImageOnController' | 'logOnController' | 'rebootController'
>;

/** Heartbeat period while a copy runs; the worker throttles what reaches the server. */
const heartbeatEveryMs = 2000;

/** Rounding allowance when comparing a controller's uptime (whole seconds) with the time since reload. */
const uptimeSlackMs = 2000;

/** Turns driver errors into ApplicationFailures with stable types; messages never hold secrets. */
function toFailure(err: unknown): unknown {
  if (err instanceof DeviceError)
    return ApplicationFailure.create({
      type: err.failureType,
      message: err.message,
      nonRetryable: isPermanentFailureType(err.failureType),
    });
  if (err instanceof CommandValueError)
    return ApplicationFailure.nonRetryable(err.message, failureTypes.invalidInput);
  if (err instanceof ReplyFormatError)
    return ApplicationFailure.create({ type: failureTypes.unexpectedControllerReply, message: err.message });
  if (err instanceof UnknownCredentialsError)
    return ApplicationFailure.nonRetryable(err.message, failureTypes.unknownCredentials);
  return err;
}

/** The controller-side activities, implemented over SSH with src/device's driver. */
export function createControllerActivities(deps: ControllerActivityDeps): ControllerActivities {
  const { logger } = deps;

  function login(ref: string): Credentials {
    return deps.credentials.resolve(ref);
  }

  async function open(controller: Controller): Promise<ControllerDriver> {
    const credentials = login(controller.credentialsRef);
    return ControllerDriver.open(
      {
        host: checkHost('controller.ssh.host', controller.ssh.host),
        port: checkPort('controller.ssh.port', controller.ssh.port ?? 22),
        hostKey: controller.ssh.hostKey,
        knownHostsFile: deps.knownHostsFile,
        username: credentials.username,
        password: credentials.password,
        privateKey: credentials.privateKey,
        enablePassword: credentials.enablePassword,
        connectTimeoutMs: deps.timeouts?.connectMs,
      },
      deps.timeouts,
      controller.dialect,
    );
  }

  /** Runs `body` on a fresh session and always closes it; failures become typed ApplicationFailures. */
  async function withDriver<T>(
    controller: Controller,
    body: (driver: ControllerDriver) => Promise<T>,
  ): Promise<T> {
    let driver: ControllerDriver | undefined;
    try {
      driver = await open(controller);
      return await body(driver);
    } catch (err) {
      throw toFailure(err);
    } finally {
      driver?.close();
    }
  }

  async function inspectController(controller: Controller): Promise<ControllerFacts> {
    const facts = await withDriver(controller, (driver) => driver.facts());
    const running = facts.partitions.find((p) => p.running) ?? facts.partitions.find((p) => p.defaultBoot);
    return {
      model: facts.model,
      runningVersion: facts.version,
      runningBuild: facts.build,
      bootPartition: running?.partition ?? 0,
      partitions: facts.partitions.map(({ partition, version, build, imageType }) => ({
        partition,
        ...(version === undefined ? {} : { version }),
        ...(build === undefined ? {} : { build }),
        ...(imageType === undefined ? {} : { imageType }),
      })),
    };
  }

  async function downloadImage(input: DownloadImageInput): Promise<DownloadImageResult> {
    const context = Context.current();
    const { controller, source, partition, campaign, attempt } = input;
    const log = logger.child({ campaign, controller: controller.ip, attempt, image: source.imageFile });
    let server: Credentials | undefined;
    try {
      if (source.credentialsRef) server = login(source.credentialsRef);
      else if (loginProtocols.includes(source.protocol) && source.protocol !== 'ftp')
        throw new CommandValueError('source.credentialsRef', `is required for ${source.protocol}`);
    } catch (err) {
      throw toFailure(err);
    }
    const user = server?.username ?? (source.protocol === 'ftp' ? 'anonymous' : undefined);
    log.info(
      { protocol: source.protocol, server: source.server.host, partition },
      'controller download starting',
    );
    let progress: { bytes: number; totalBytes?: number } = { bytes: 0 };
    context.heartbeat(progress);
    // Heartbeat even while the controller prints nothing (login delays, a stalled transfer): a
    // cancellation (purge) only reaches an activity through its heartbeats.
    const keepAlive = setInterval(() => context.heartbeat(progress), heartbeatEveryMs);
    try {
      const result = await withDriver(controller, (driver) =>
        driver.copy(
          {
            protocol: source.protocol,
            host: source.server.host,
            port: source.server.port,
            user,
            file: source.imageFile,
            partition,
            hostKey: source.server.hostKey,
          },
          server?.password,
          {
            signal: context.cancellationSignal,
            onProgress: ({ bytes, totalBytes }) => {
              progress = { bytes, totalBytes };
              context.heartbeat(progress);
            },
          },
        ),
      );
      log.info({ bytes: result.bytes, partition }, 'controller download finished');
      return { bytes: result.bytes };
    } catch (err) {
      if (context.cancellationSignal.aborted) {
        log.info('controller download cancelled; the controller abandoned the transfer');
        throw context.cancellationSignal.reason;
      }
      const failure = err as Error & { type?: string };
      log.warn({ failureType: failure.type, error: failure.message }, 'controller download failed');
      throw err;
    } finally {
      clearInterval(keepAlive);
    }
  }

  /**
   * What a real controller offers after `copy`: `show image version` of the partition (version,
   * build, and the controller's own signature validation); the payload SHA-256 only where the
   * controller advertises `image-sha256`.
   */
  async function verifyImageOnController(input: VerifyOnControllerInput): Promise<void> {
    const { controller, partition, expected } = input;
    const problems = await withDriver(controller, async (driver) => {
      const found = (await driver.partitions()).find((p) => p.partition === partition);
      if (!found?.version) return [`partition ${partition} holds no image`];
      const issues: string[] = [];
      if (found.imageType !== undefined && found.imageType !== expected.imageType)
        issues.push(`image type is ${found.imageType}, expected ${expected.imageType}`);
      if (found.version !== expected.version)
        issues.push(`version is ${found.version}, expected ${expected.version}`);
      if (found.build !== expected.build) issues.push(`build is ${found.build}, expected ${expected.build}`);
      if (!found.signature?.startsWith('Digitally Signed'))
        issues.push('the controller does not report the image as digitally signed');
      if (driver.has('image-sha256')) {
        const sha256 = await driver.checksum(partition);
        if (sha256 !== expected.payloadSha256)
          issues.push(`payload SHA-256 is ${sha256}, expected ${expected.payloadSha256}`);
      }
      return issues;
    });
    if (problems.length === 0) return;
    const message = `image on ${controller.ip} partition ${partition} failed its check: ${problems.join('; ')}`;
    logger.warn({ controller: controller.ip, partition, problems }, 'image on controller failed its check');
    throw ApplicationFailure.create({ type: failureTypes.integrityCheckFailed, message });
  }

  /**
   * Writes the line where the controller advertises `log-message`; a real ArubaOS controller has no
   * such command, and its own log already holds the failed copy, so there it is reported and skipped.
   */
  async function logOnController(input: ControllerLogInput): Promise<void> {
    await withDriver(input.controller, async (driver) => {
      if (driver.has('log-message')) await driver.log(input.level, input.message);
      else
        logger.info(
          { controller: input.controller.ip, capability: 'log-message' },
          'controller log line unsupported by this controller; its own log records the failed copy',
        );
    });
  }

  async function rebootController(input: RebootInput): Promise<void> {
    const context = Context.current();
    const { controller, partition } = input;
    const timeoutMs = input.timeoutMs ?? deps.rebootTimeoutMs ?? 10 * 60_000;
    const pollMs = deps.rebootPollMs ?? 5000;
    await withDriver(controller, async (driver) => {
      await driver.setBootPartition(partition);
      await driver.reload();
    });
    logger.info({ controller: controller.ip, partition, timeoutMs }, 'controller reloading');
    const reloadedAt = Date.now();
    const deadline = reloadedAt + timeoutMs;
    let lastError = 'no answer yet';
    for (;;) {
      await context.sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())));
      context.heartbeat({ waitingMs: timeoutMs - (deadline - Date.now()) });
      try {
        const { uptimeSeconds } = await withDriver(controller, (driver) => driver.facts());
        // Up for longer than the reload is old: it has not gone down yet (a slow real device).
        if (uptimeSeconds !== undefined && uptimeSeconds * 1000 > Date.now() - reloadedAt + uptimeSlackMs)
          lastError = `still up from before the reload (uptime ${uptimeSeconds} s)`;
        else {
          logger.info({ controller: controller.ip, uptimeSeconds }, 'controller answers again after reload');
          return;
        }
      } catch (err) {
        const type = (err as { type?: string }).type;
        if (type !== failureTypes.controllerUnreachable) throw err;
        lastError = (err as Error).message;
      }
      if (Date.now() >= deadline) break;
    }
    throw ApplicationFailure.nonRetryable(
      `controller ${controller.ip} did not come back within ${Math.round(timeoutMs / 1000)} s after reload (last: ${lastError})`,
      failureTypes.rebootTimeout,
    );
  }

  return { inspectController, downloadImage, verifyImageOnController, logOnController, rebootController };
}
