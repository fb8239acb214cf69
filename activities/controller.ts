import { AsyncLocalStorage } from 'node:async_hooks';
import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  CredentialPolicyError,
  CredentialStoreError,
  sshTrust,
  UnknownCredentialsError,
  type CredentialStore,
  type Credentials,
} from '../src/credentials/store';
import { cleanText } from '../src/domain/clean-text';
import { failureTypes, isPermanentFailureType } from '../src/domain/errors';
import type { Controller } from '../src/domain/types';
import { loginProtocols } from '../src/domain/rules';
import { ControllerDriver, type DriverTimeouts } from '../src/device/driver';
import { DeviceError } from '../src/device/errors';
import { ReplyFormatError } from '../src/device/parsers';
import { sshBanner } from '../src/device/ssh-banner';
import { CommandValueError, checkHost, checkPort } from '../src/device/validate';
import type { Logger } from '../src/logging';
import { portOf } from '../src/transfer/endpoint';
import { activityContext } from './context';
import { rebootOnce, type RebootDevice } from './reboot';
import type {
  ControllerFacts,
  ControllerLogInput,
  ControllerHealth,
  ControllerStorage,
  DownloadImageInput,
  DownloadImageResult,
  RebootInput,
  RebootResult,
  UpgradeActivities,
  VerifiedImage,
  VerifyOnControllerInput,
} from './types';

/** What the controller activities need from the worker. */
export interface ControllerActivityDeps {
  credentials: CredentialStore;
  logger: Logger;
  /** Aborted when the worker is asked to stop: ends the local activities (ActivityDeps.stopping). */
  stopping?: AbortSignal;
  /** known_hosts for controllers without a pinned host key. Default: env CIU_KNOWN_HOSTS. */
  knownHostsFile?: string;
  /** Per-command deadlines (defaults in src/device/driver.ts) and the SSH connect deadline (default 15 s). */
  timeouts?: DriverTimeouts & { connectMs?: number };
  /** How long a reloaded controller may stay silent when the workflow gives no timeoutMs. Default 10 minutes. */
  rebootTimeoutMs?: number;
  /**
   * Longest pause between SSH banner probes while a controller reboots (they start 250 ms apart and
   * back off to it): a controller back is seen this long after at most. Default 500 ms — a probe is
   * one TCP handshake, no login, so two a second per rebooting controller cost little.
   */
  rebootPollMs?: number;
  /** A download with no byte progress this long fails as DownloadStalled. Default 60 s. */
  downloadStallMs?: number;
  /**
   * How long a combined activity's session stays logged in after it ends, for the next step on the
   * same controller on this worker (the copy after the look, the reboot after the copy), as a script
   * keeps one session from the look to the reload. Default 10 s; 0 closes it at once.
   */
  sessionParkMs?: number;
}

/** Sessions parked at once on a worker, at most: beyond, an ending session is closed. */
const parkedAtMost = 64;

type ControllerActivities = Pick<
  UpgradeActivities,
  | 'inspectController'
  | 'inspectStorage'
  | 'inspectHealth'
  | 'downloadImage'
  | 'verifyImageOnController'
  | 'logOnController'
  | 'rebootController'
> & {
  /**
   * Runs `steps` with one login to `controller`: every step inside given this same controller object
   * shares that session (combined activities, activities/combined.ts), instead of a login each.
   * Closed when they end.
   */
  oneLogin<T>(controller: Controller, steps: () => Promise<T>): Promise<T>;
};

/** One SSH session several steps share; a failed step drops it, so the next one logs in afresh. */
interface SharedSession {
  run<T>(body: (driver: ControllerDriver) => Promise<T>, signal?: AbortSignal): Promise<T>;
  close(): void;
  /** Hands its session over (still logged in, if it has one and no step failed) and forgets it. */
  release(): ControllerDriver | undefined;
}

/** The login a session holds: a parked one serves only a controller reached the same way. */
function loginKey(controller: Controller): string {
  const { ssh, credentialsRef, dialect } = controller;
  return JSON.stringify([ssh.host, ssh.port ?? 22, ssh.hostKey ?? null, credentialsRef, dialect ?? null]);
}

/** Heartbeat period while a copy runs; the worker throttles what reaches the server. */
const heartbeatEveryMs = 2000;

/** Turns driver errors into ApplicationFailures with stable types; messages never hold secrets. */
function toFailure(err: unknown): unknown {
  if (err instanceof DeviceError)
    return ApplicationFailure.create({
      type: err.failureType,
      message: cleanText(err.message),
      nonRetryable: isPermanentFailureType(err.failureType),
    });
  if (err instanceof CommandValueError)
    return ApplicationFailure.nonRetryable(err.message, failureTypes.invalidInput);
  if (err instanceof ReplyFormatError)
    return ApplicationFailure.create({
      type: failureTypes.unexpectedControllerReply,
      message: cleanText(err.message),
    });
  if (err instanceof UnknownCredentialsError)
    return ApplicationFailure.nonRetryable(err.message, failureTypes.unknownCredentials);
  if (err instanceof CredentialPolicyError || err instanceof CredentialStoreError)
    return ApplicationFailure.nonRetryable(err.message, failureTypes.credentialsNotAllowed);
  return err;
}

/** The controller-side activities, implemented over SSH with src/device's driver. */
export function createControllerActivities(deps: ControllerActivityDeps): ControllerActivities {
  const { logger } = deps;
  /** deps.stopping, with the failure a local activity ends with then (its workflow task fails and moves on). */
  const stopped = new AbortController();
  const stop = () =>
    stopped.abort(
      ApplicationFailure.retryable(
        'the worker is stopping: another worker runs this step again',
        failureTypes.workerStopping,
      ),
    );
  if (deps.stopping?.aborted) stop();
  else deps.stopping?.addEventListener('abort', stop, { once: true });

  async function open(controller: Controller, signal?: AbortSignal): Promise<ControllerDriver> {
    const host = checkHost('controller.ssh.host', controller.ssh.host);
    const port = checkPort('controller.ssh.port', controller.ssh.port ?? 22);
    const ref = controller.credentialsRef;
    const credentials = deps.credentials.resolve(ref, {
      purpose: 'controller-login',
      host,
      port,
      protocol: 'ssh',
    });
    const trust = sshTrust(ref, credentials.allow, controller.ssh.hostKey, deps.knownHostsFile);
    return ControllerDriver.open(
      {
        host,
        port,
        hostKey: trust.hostKey,
        knownHostsFile: trust.knownHostsFile,
        username: credentials.username,
        password: credentials.password,
        privateKey: credentials.privateKey,
        enablePassword: credentials.enablePassword,
        connectTimeoutMs: deps.timeouts?.connectMs,
        signal,
      },
      deps.timeouts,
      controller.dialect,
    );
  }

  /**
   * Runs `body` on a fresh session and always closes it; failures become typed ApplicationFailures.
   * Aborting `signal` ends the login or the session at once and fails with the signal's reason.
   */
  async function withDriver<T>(
    controller: Controller,
    body: (driver: ControllerDriver) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const shared = sessionFor(controller);
    if (shared) return shared.run(body, signal);
    let driver: ControllerDriver | undefined;
    const hangUp = () => driver?.close();
    signal?.addEventListener('abort', hangUp, { once: true });
    try {
      driver = await open(controller, signal);
      return await body(driver);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw toFailure(err);
    } finally {
      signal?.removeEventListener('abort', hangUp);
      driver?.close();
    }
  }

  /**
   * One session for several steps of an activity (each login costs a key exchange): opened by the
   * first step; a failed step drops it, so the next one logs in afresh. Close it when done.
   */
  function sharedSession(controller: Controller): SharedSession {
    let kept: ControllerDriver | undefined;
    const close = () => {
      kept?.close();
      kept = undefined;
    };
    return {
      async run<T>(body: (driver: ControllerDriver) => Promise<T>, signal?: AbortSignal): Promise<T> {
        // Aborting `signal` ends the login or the session at once, as withDriver's does.
        signal?.addEventListener('abort', close, { once: true });
        try {
          kept ??= unpark(loginKey(controller)) ?? (await open(controller, signal));
          return await body(kept);
        } catch (err) {
          close();
          if (signal?.aborted) throw signal.reason;
          throw toFailure(err);
        } finally {
          signal?.removeEventListener('abort', close);
        }
      },
      close,
      release() {
        const driver = kept;
        kept = undefined;
        return driver;
      },
    };
  }

  /**
   * Sessions combined activities left logged in, by login: the next step on the same controller takes
   * one instead of logging in (a key exchange and the CLI's preparation). Closed after sessionParkMs,
   * or when the controller or the network closes them (then they are not taken).
   */
  const parked = new Map<string, { driver: ControllerDriver; timer: NodeJS.Timeout }>();
  const parkMs = deps.sessionParkMs ?? 10_000;

  function park(controller: Controller, driver: ControllerDriver | undefined): void {
    if (!driver) return;
    const key = loginKey(controller);
    unpark(key)?.close();
    if (!driver.isOpen || parkMs <= 0 || parked.size >= parkedAtMost) {
      driver.close();
      return;
    }
    const timer = setTimeout(() => {
      if (parked.get(key)?.driver === driver) parked.delete(key);
      driver.close();
    }, parkMs);
    // A parked session never keeps a stopping worker alive.
    timer.unref();
    parked.set(key, { driver, timer });
  }

  /** The session parked under `key`, if it is still up (it is no longer parked either way). */
  function unpark(key: string): ControllerDriver | undefined {
    const entry = parked.get(key);
    if (!entry) return undefined;
    parked.delete(key);
    clearTimeout(entry.timer);
    if (entry.driver.isOpen) return entry.driver;
    entry.driver.close();
    return undefined;
  }

  /** The session oneLogin opened around the running steps, for the very controller it was given. */
  const loggedIn = new AsyncLocalStorage<{ controller: Controller; session: SharedSession }>();
  function sessionFor(controller: Controller): SharedSession | undefined {
    const scope = loggedIn.getStore();
    return scope?.controller === controller ? scope.session : undefined;
  }

  async function oneLogin<T>(controller: Controller, steps: () => Promise<T>): Promise<T> {
    const session = sharedSession(controller);
    let ok = false;
    try {
      const result = await loggedIn.run({ controller, session }, steps);
      ok = true;
      return result;
    } finally {
      // Steps that ended well leave the session for the controller's next step on this worker.
      if (ok) park(controller, session.release());
      else session.close();
    }
  }

  /**
   * withDriver for the short commands, heartbeating while they run as activities: their start-to-close
   * timeout is minutes, so without heartbeats an attempt caught by a worker crash would hold its
   * controller that long; with them the next worker retries it after the heartbeat timeout. Outside an
   * activity (`ciu show upgrade plan --inspect`) there is nothing to heartbeat to.
   */
  async function heartbeating<T>(
    controller: Controller,
    body: (driver: ControllerDriver) => Promise<T>,
  ): Promise<T> {
    const context = activityContext();
    const local = context?.info.isLocal === true;
    // A local activity (the look, inside its workflow's task) has no heartbeat: its task is kept alive.
    const beating = local ? undefined : context;
    beating?.heartbeat();
    const keepAlive = beating ? setInterval(() => beating.heartbeat(), heartbeatEveryMs) : undefined;
    // A worker asked to stop cancels the command, even one still waiting for a silent controller's
    // handshake; a local one it does not cancel, so the worker's stopping signal ends it.
    const signal =
      context && local
        ? AbortSignal.any([context.cancellationSignal, stopped.signal])
        : context?.cancellationSignal;
    try {
      return await withDriver(controller, body, signal);
    } finally {
      clearInterval(keepAlive);
    }
  }

  async function inspectController(controller: Controller): Promise<ControllerFacts> {
    const facts = await heartbeating(controller, (driver) => driver.facts());
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

  async function inspectStorage(controller: Controller): Promise<ControllerStorage> {
    const storage = await heartbeating(controller, (driver) => driver.storage());
    return { freeBytes: storage.availableBytes, sizeBytes: storage.sizeBytes };
  }

  async function inspectHealth(controller: Controller): Promise<ControllerHealth> {
    return heartbeating(controller, (driver) => driver.health(controller.ip));
  }

  async function downloadImage(input: DownloadImageInput): Promise<DownloadImageResult> {
    const context = Context.current();
    const { controller, source, partition, campaign, attempt } = input;
    const log = logger.child({ campaign, controller: controller.ip, attempt, image: source.imageFile });
    let server: Credentials | undefined;
    try {
      if (source.credentialsRef)
        server = deps.credentials.resolve(source.credentialsRef, {
          purpose: 'image-server',
          host: source.server.host,
          port: portOf({ protocol: source.protocol, host: source.server.host, port: source.server.port }),
          protocol: source.protocol,
        });
      else if (loginProtocols.includes(source.protocol) && source.protocol !== 'ftp')
        throw new CommandValueError('source.credentialsRef', `is required for ${source.protocol}`);
    } catch (err) {
      throw toFailure(err);
    }
    const user = server?.username ?? (source.protocol === 'ftp' ? 'anonymous' : undefined);
    // The look and the copy share one login (with the check after it, when oneLogin runs them).
    const scoped = sessionFor(controller);
    const session = scoped ?? sharedSession(controller);
    try {
      const expected = input.expected;
      if (expected && (await session.run((d) => imageProblems(d, partition, expected, true))).length === 0) {
        log.info({ partition }, 'partition already holds the verified image; not copying again');
        return { bytes: expected.payloadLength, alreadyThere: true };
      }
      return await copyOn((body) => session.run(body));
    } finally {
      if (!scoped) session.close();
    }

    async function copyOn(run: SharedSession['run']): Promise<DownloadImageResult> {
      log.info(
        { protocol: source.protocol, server: source.server.host, partition },
        'controller download starting',
      );
      let progress: { bytes: number; totalBytes?: number } = { bytes: 0 };
      context.heartbeat(progress);
      // Liveness is not progress: heartbeats keep the activity alive while the controller prints
      // nothing, so a transfer whose byte count stands still is stopped here.
      const stallMs = deps.downloadStallMs ?? 60_000;
      const stall = new AbortController();
      let progressAt = Date.now();
      // Heartbeat even while the controller prints nothing (login delays, a stalled transfer): a
      // cancellation (purge) only reaches an activity through its heartbeats.
      const keepAlive = setInterval(
        () => {
          context.heartbeat(progress);
          if (Date.now() - progressAt >= stallMs) stall.abort();
        },
        Math.min(heartbeatEveryMs, stallMs / 4),
      );
      try {
        const result = await run((driver) =>
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
              signal: AbortSignal.any([context.cancellationSignal, stall.signal]),
              onProgress: ({ bytes, totalBytes }) => {
                if (bytes > progress.bytes) progressAt = Date.now();
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
        if (stall.signal.aborted) {
          const message = `controller ${controller.ip} download made no progress for ${stallMs / 1000} s (stuck at ${progress.bytes} bytes)`;
          log.warn({ bytes: progress.bytes, stallMs }, 'controller download stalled; abandoned');
          throw ApplicationFailure.create({ type: failureTypes.downloadStalled, message });
        }
        const failure = err as Error & { type?: string };
        log.warn({ failureType: failure.type, error: failure.message }, 'controller download failed');
        throw err;
      } finally {
        clearInterval(keepAlive);
      }
    }
  }

  /**
   * What is wrong with the image on a partition, compared with the verified one; empty when it is
   * exactly it. What a real controller offers: `show image version` of the partition (version, build,
   * and the controller's own signature validation); the payload SHA-256 only where the controller
   * advertises `image-sha256`.
   */
  async function imageProblems(
    driver: ControllerDriver,
    partition: 0 | 1,
    expected: VerifiedImage,
    /** Stop at the first problem (whether to copy), instead of listing them all (the check's report). */
    firstOnly = false,
  ): Promise<string[]> {
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
    if (firstOnly && issues.length > 0) return issues;
    if (driver.has('image-sha256')) {
      const sha256 = await driver.checksum(partition);
      if (sha256 !== expected.payloadSha256)
        issues.push(`payload SHA-256 is ${sha256}, expected ${expected.payloadSha256}`);
    }
    return issues;
  }

  async function verifyImageOnController(input: VerifyOnControllerInput): Promise<void> {
    const { controller, partition, expected } = input;
    const problems = await withDriver(controller, (driver) => imageProblems(driver, partition, expected));
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
    await heartbeating(input.controller, async (driver) => {
      if (driver.has('log-message')) await driver.log(input.level, input.message);
      else
        logger.info(
          { controller: input.controller.ip, capability: 'log-message' },
          'controller log line unsupported by this controller; its own log records the failed copy',
        );
    });
  }

  async function rebootController(input: RebootInput): Promise<RebootResult> {
    const { controller } = input;
    // Look, boot partition and reload share one login; the reload ends it. During the wait each look
    // logs in afresh, and the one that finds the controller back keeps its login for the health view.
    const session = sharedSession(controller);
    const back = sharedSession(controller);
    let waiting = false;
    const onSession = <T>(body: (driver: ControllerDriver) => Promise<T>): Promise<T> =>
      (waiting ? back : session).run(body);
    const device: RebootDevice = {
      look: () =>
        onSession(async (driver) => {
          const facts = await driver.facts();
          return {
            version: facts.version,
            build: facts.build,
            uptimeSeconds: facts.uptimeSeconds,
            defaultBoot: facts.partitions.find((p) => p.defaultBoot)?.partition,
          };
        }),
      banner: async () => {
        waiting = true;
        session.close();
        back.close();
        const host = checkHost('controller.ssh.host', controller.ssh.host);
        const port = checkPort('controller.ssh.port', controller.ssh.port ?? 22);
        await sshBanner(host, port).catch((err: unknown) => {
          throw toFailure(err);
        });
      },
      setBootPartition: (partition) => onSession((driver) => driver.setBootPartition(partition)),
      reload: () =>
        onSession(async (driver) => {
          try {
            await driver.reload();
          } finally {
            session.close();
          }
        }),
    };
    try {
      const now = await rebootOnce(Context.current(), device, input, {
        timeoutMs: input.timeoutMs ?? deps.rebootTimeoutMs ?? 10 * 60_000,
        pollMs: deps.rebootPollMs ?? 500,
        logger,
      });
      const result: RebootResult = { runningVersion: now.version, runningBuild: now.build };
      if (!input.readHealth) return result;
      return {
        ...result,
        ...(await healthOnceBack(controller.ip, () => onSession((d) => d.health(controller.ip)))),
      };
    } finally {
      session.close();
      back.close();
    }
  }

  /**
   * The post-check's health view, read in the login that saw the controller back. A refused or
   * unparsable reply is returned as such (the workflow does not hold it against the controller); any
   * other failure leaves it unread, and the workflow reads it with its own retried activity.
   */
  async function healthOnceBack(
    ip: string,
    read: () => Promise<ControllerHealth>,
  ): Promise<Pick<RebootResult, 'health' | 'healthUnreadable'>> {
    try {
      return { health: await read() };
    } catch (err) {
      const { type, message } = err as ApplicationFailure;
      if (type === failureTypes.unexpectedControllerReply || type === failureTypes.commandRejected)
        return { healthUnreadable: { ...(type ? { type } : {}), message } };
      logger.warn({ controller: ip, error: message }, 'health view not read after the reboot');
      return {};
    }
  }

  return {
    inspectController,
    inspectStorage,
    inspectHealth,
    downloadImage,
    verifyImageOnController,
    logOnController,
    rebootController,
    oneLogin,
  };
}
