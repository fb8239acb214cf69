/**
 * rebootController's decisions, kept apart from the SSH driver: whether to reload at all, and how to
 * resume an attempt that a worker crash or a retry interrupted. A reload is a minutes-long outage on
 * real hardware, so it is sent at most once per activity: the attempt records "reload sent at" in its
 * heartbeat before sending it, and a later attempt that finds that record, or finds the controller
 * already rebooted since the activity was first scheduled, waits instead of reloading again.
 */
import { ApplicationFailure, type Context } from '@temporalio/activity';
import { failureTypes } from '../src/domain/errors';
import type { Logger } from '../src/logging';
import type { RebootInput } from './types';

/** rebootController's heartbeat details. */
export interface RebootHeartbeat {
  /** Epoch ms at which `reload` was sent (recorded just before sending it). */
  reloadedAt: number;
  /** How long the wait has lasted so far. */
  waitedMs: number;
}

/** What the controller says when rebootController looks before acting. */
export interface RebootLook {
  version: string;
  build: number;
  uptimeSeconds?: number;
  /** The partition marked "Default boot". */
  defaultBoot?: 0 | 1;
}

/** The device actions rebootController needs; they may share one session until `reload` ends it. */
export interface RebootDevice {
  look(): Promise<RebootLook>;
  /** Resolves once the controller's SSH server sends its identification line; no login. */
  banner(): Promise<void>;
  setBootPartition(partition: 0 | 1): Promise<void>;
  reload(): Promise<void>;
}

/** Rounding allowance when comparing a controller's uptime (whole seconds) with the time since reload. */
const uptimeSlackMs = 2000;

/**
 * The wait's first pause and its growth: a banner probe costs one TCP handshake, so a controller
 * that is back is seen within a fraction of a second, and one that takes minutes is probed every
 * `pollMs` at most.
 */
const firstPauseMs = 250;
const pauseGrowth = 1.5;

/**
 * A reload recorded by an earlier attempt may never have reached the controller (the worker died
 * between recording it and the controller taking the `y`). A controller still up on the boot it had
 * before the record this long after it never got the reload, so the resumed attempt sends it once:
 * half the reboot timeout, at most a minute — real controllers go down within seconds of `reload`.
 */
function lostReloadAfterMs(timeoutMs: number): number {
  return Math.min(timeoutMs / 2, 60_000);
}

function recordedReload(details: unknown): number | undefined {
  const reloadedAt = (details as Partial<RebootHeartbeat> | undefined)?.reloadedAt;
  return typeof reloadedAt === 'number' && Number.isFinite(reloadedAt) ? reloadedAt : undefined;
}

function isUnreachable(err: unknown): boolean {
  return (err as { type?: string }).type === failureTypes.controllerUnreachable;
}

/**
 * Sets the boot partition, reloads, and waits until the controller answers SSH from a fresh boot —
 * or resumes a wait an earlier attempt began. The wait probes the SSH banner with a short backoff
 * (up to `pollMs` apart) and logs in only once it answers, to tell a fresh boot by its uptime.
 * Resolves with the look that saw it answer (or already rebooted); the workflow then checks what it
 * runs. Fails RebootTimeout ("did not come back after reload", with the time waited).
 */
export async function rebootOnce(
  context: Context,
  device: RebootDevice,
  input: RebootInput,
  options: { timeoutMs: number; pollMs: number; logger: Logger },
): Promise<RebootLook> {
  const { controller, partition, expected } = input;
  const { timeoutMs, pollMs } = options;
  const log = options.logger.child({ controller: controller.ip, partition, attempt: context.info.attempt });
  const activityStart = context.info.scheduledTimestampMs;
  let reloadedAt = recordedReload(context.info.heartbeatDetails);
  let unconfirmedRecord = reloadedAt !== undefined;

  if (reloadedAt !== undefined) {
    log.info({ reloadedAt: new Date(reloadedAt).toISOString() }, 'reload already sent; resuming the wait');
  } else {
    let now: RebootLook | undefined;
    try {
      now = await device.look();
    } catch (err) {
      // A later attempt that cannot reach the controller cannot tell whether an earlier attempt
      // reloaded it: waiting is safe, reloading again is not.
      if (context.info.attempt === 1 || !isUnreachable(err)) throw err;
      reloadedAt = activityStart;
      log.warn('controller unreachable on a retried reboot; waiting for it instead of reloading');
    }
    if (now) {
      const bootedSinceStart =
        context.info.attempt > 1 &&
        now.uptimeSeconds !== undefined &&
        now.uptimeSeconds * 1000 < Date.now() - activityStart - uptimeSlackMs;
      const runsTarget = expected && now.version === expected.version && now.build === expected.build;
      if (runsTarget || bootedSinceStart) {
        // A fallback finds the controller already on its previous image (it booted the old partition
        // on its own): no reload, but the next one must not boot the image it just refused.
        if (runsTarget && now.defaultBoot !== undefined && now.defaultBoot !== partition)
          await device.setBootPartition(partition);
        log.info(
          { version: now.version, build: now.build, uptimeSeconds: now.uptimeSeconds },
          'controller already rebooted; not reloading again',
        );
        return now;
      }
      if (now.defaultBoot !== partition) await device.setBootPartition(partition);
      reloadedAt = Date.now();
      context.heartbeat({ reloadedAt, waitedMs: 0 } satisfies RebootHeartbeat);
      await device.reload();
      log.info({ timeoutMs }, 'controller reloading');
    }
  }

  let sentAt = reloadedAt ?? activityStart;
  let deadline = sentAt + timeoutMs;
  let lastError = 'no answer yet';
  let pauseMs = Math.min(firstPauseMs, pollMs);
  for (;;) {
    const beat = (): void => context.heartbeat({ reloadedAt: sentAt, waitedMs: Date.now() - sentAt });
    beat();
    await context.sleep(Math.min(pauseMs, Math.max(0, deadline - Date.now())));
    pauseMs = Math.min(pauseMs * pauseGrowth, pollMs);
    beat();
    try {
      await device.banner();
      const now = await device.look();
      const { uptimeSeconds } = now;
      // Up for longer than the reload is old: it has not gone down yet (a slow real device).
      if (uptimeSeconds !== undefined && uptimeSeconds * 1000 > Date.now() - sentAt + uptimeSlackMs) {
        lastError = `still up from before the reload (uptime ${uptimeSeconds} s)`;
        if (unconfirmedRecord && Date.now() - sentAt > lostReloadAfterMs(timeoutMs)) {
          log.warn(
            { uptimeSeconds, recordedAt: new Date(sentAt).toISOString() },
            'the recorded reload never reached the controller (up since before it); sending it now',
          );
          unconfirmedRecord = false;
          if (now.defaultBoot !== partition) await device.setBootPartition(partition);
          sentAt = Date.now();
          deadline = sentAt + timeoutMs;
          context.heartbeat({ reloadedAt: sentAt, waitedMs: 0 } satisfies RebootHeartbeat);
          await device.reload();
          pauseMs = Math.min(firstPauseMs, pollMs);
        }
      } else {
        log.info({ uptimeSeconds, waitedMs: Date.now() - sentAt }, 'controller answers again after reload');
        return now;
      }
    } catch (err) {
      if (!isUnreachable(err)) throw err;
      lastError = (err as Error).message;
    }
    if (Date.now() >= deadline) break;
  }
  const waited = Math.round((Date.now() - sentAt) / 1000);
  throw ApplicationFailure.nonRetryable(
    `controller ${controller.ip} did not come back after reload: waited ${waited} s (limit ${Math.round(timeoutMs / 1000)} s; last: ${lastError})`,
    failureTypes.rebootTimeout,
  );
}
