/**
 * rebootController's decisions with a scripted device: a reload is sent at most once per activity,
 * whatever attempt the worker is on and whatever the heartbeat recorded.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import pino from 'pino';
import { Context, type Info } from '@temporalio/activity';
import { rebootOnce, type RebootDevice, type RebootLook } from '../../activities/reboot';
import type { RebootInput } from '../../activities/types';
import { failureTypes } from '../../src/domain/errors';

const input: RebootInput = {
  controller: {
    ip: '127.0.0.9',
    model: 'A7210',
    role: 'local',
    credentialsRef: 'c',
    ssh: { host: '127.0.0.9', port: 22 },
  },
  partition: 1,
  expected: { version: '6.4.0.0', build: 81234 },
};
// What the activity's driver wrapper throws for a controller that does not answer.
const unreachable = ApplicationFailure.create({
  type: failureTypes.controllerUnreachable,
  message: 'connect ECONNREFUSED',
});

/** A device that answers `looks` in turn (the last one repeats); an Error entry is thrown. */
function scripted(looks: (RebootLook | Error)[]) {
  const sent: string[] = [];
  let n = 0;
  const device: RebootDevice = {
    look: () => {
      const next = looks[Math.min(n++, looks.length - 1)];
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next as RebootLook);
    },
    banner: () => Promise.resolve(),
    setBootPartition: (p) => {
      sent.push(`boot system partition ${p}`);
      return Promise.resolve();
    },
    reload: () => {
      sent.push('reload');
      return Promise.resolve();
    },
  };
  return { device, sent };
}

function run(
  info: Partial<Info>,
  device: RebootDevice,
  timeoutMs = 2000,
  on = input,
  pollMs = 20,
): Promise<RebootLook> {
  const env = new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });
  return env.run(() =>
    rebootOnce(Context.current(), device, on, {
      timeoutMs,
      pollMs,
      logger: pino({ level: 'silent' }),
    }),
  );
}

const old: RebootLook = { version: '6.3.1.0', build: 40000, uptimeSeconds: 86_400, defaultBoot: 0 };
const fresh: RebootLook = { version: '6.4.0.0', build: 81234, uptimeSeconds: 0, defaultBoot: 1 };

test('first attempt: sets the boot partition, reloads once, waits for a fresh boot and returns what it runs', async () => {
  const { device, sent } = scripted([old, unreachable, unreachable, fresh]);
  await expect(run({ attempt: 1, scheduledTimestampMs: Date.now() }, device)).resolves.toEqual(fresh);
  expect(sent).toEqual(['boot system partition 1', 'reload']);
});

test('a retry that finds "reload sent" in its heartbeat resumes the wait and sends nothing', async () => {
  const { device, sent } = scripted([unreachable, fresh]);
  await run(
    {
      attempt: 2,
      scheduledTimestampMs: Date.now() - 60_000,
      heartbeatDetails: { reloadedAt: Date.now() - 5000, waitedMs: 4000 },
    },
    device,
    60_000,
  );
  expect(sent).toEqual([]);
});

test('a recorded reload the controller never got (up since before it, past half the timeout) is sent once more, by the resumed attempt', async () => {
  // The dead worker recorded the reload 15 s ago and died before the controller took the `y`:
  // the controller has been up for a day, so it never went down.
  const { device, sent } = scripted([old, old, unreachable, fresh]);
  await run(
    {
      attempt: 2,
      scheduledTimestampMs: Date.now() - 20_000,
      heartbeatDetails: { reloadedAt: Date.now() - 15_000, waitedMs: 14_000 },
    },
    device,
    20_000,
  );
  expect(sent).toEqual(['boot system partition 1', 'reload']);
});

test('a recorded reload is not sent again while the controller may still be going down', async () => {
  const { device, sent } = scripted([old, old, unreachable, fresh]);
  await run(
    {
      attempt: 2,
      scheduledTimestampMs: Date.now() - 5_000,
      heartbeatDetails: { reloadedAt: Date.now() - 2_000, waitedMs: 1_000 },
    },
    device,
    20_000,
  );
  expect(sent).toEqual([]);
});

test('a retry without the record: a controller rebooted since the activity began is not reloaded again', async () => {
  const { device, sent } = scripted([{ ...old, uptimeSeconds: 10 }]);
  await run({ attempt: 2, scheduledTimestampMs: Date.now() - 90_000 }, device);
  expect(sent).toEqual([]);
});

test('a controller already running the target is not reloaded, and a set boot partition is not set again', async () => {
  const already = scripted([{ ...fresh, uptimeSeconds: 86_400 }]);
  await expect(run({ attempt: 1, scheduledTimestampMs: Date.now() }, already.device)).resolves.toMatchObject({
    version: fresh.version,
    build: fresh.build,
  });
  expect(already.sent).toEqual([]);

  const bootSet = scripted([{ ...old, defaultBoot: 1 }, fresh]);
  await run({ attempt: 1, scheduledTimestampMs: Date.now() }, bootSet.device);
  expect(bootSet.sent).toEqual(['reload']);
});

test('never back, also after a crash: RebootTimeout "did not come back after reload" with the time waited', async () => {
  const { device, sent } = scripted([unreachable]);
  const err = (await run(
    {
      attempt: 2,
      scheduledTimestampMs: Date.now() - 10_000,
      heartbeatDetails: { reloadedAt: Date.now() - 3000, waitedMs: 2500 },
    },
    device,
    3500,
  ).catch((e: unknown) => e)) as ApplicationFailure;
  expect(sent).toEqual([]);
  expect(err.type).toBe(failureTypes.rebootTimeout);
  expect(err.nonRetryable).toBe(true);
  expect(err.message).toMatch(
    /^controller 127\.0\.0\.9 did not come back after reload: waited [34] s \(limit 4 s; last: connect ECONNREFUSED\)$/,
  );
});

test('a retry that cannot reach the controller waits for it rather than reloading blind', async () => {
  const { device, sent } = scripted([unreachable, unreachable, fresh]);
  await run({ attempt: 2, scheduledTimestampMs: Date.now() - 5000 }, device, 60_000);
  expect(sent).toEqual([]);
});

test('a fallback that finds the controller already on the previous image points its boot back there, without a reload', async () => {
  // The controller refused the new image and booted its old partition 0 on its own; default boot still says 1.
  const { device, sent } = scripted([
    { version: '6.3.1.0', build: 40000, uptimeSeconds: 30, defaultBoot: 1 },
  ]);
  await run({ attempt: 1, scheduledTimestampMs: Date.now() }, device, 2000, {
    ...input,
    partition: 0,
    expected: { version: '6.3.1.0', build: 40000 },
  });
  expect(sent).toEqual(['boot system partition 0']);
});

test('the wait probes the SSH banner with a short backoff and logs in only once it answers', async () => {
  const { device, sent } = scripted([old, fresh]);
  let looks = 0;
  const look = device.look.bind(device);
  device.look = () => {
    looks++;
    return look();
  };
  // Down for 600 ms after the reload; the longest pause allowed is the old fixed poll, 5 s.
  let reloadedAt = 0;
  const reload = device.reload.bind(device);
  device.reload = () => {
    reloadedAt = Date.now();
    return reload();
  };
  let probes = 0;
  device.banner = () => {
    probes++;
    return Date.now() - reloadedAt < 600 ? Promise.reject(unreachable) : Promise.resolve();
  };
  await run({ attempt: 1, scheduledTimestampMs: Date.now() }, device, 60_000, input, 5000);
  const backAfter = Date.now() - reloadedAt;
  expect(sent).toEqual(['boot system partition 1', 'reload']);
  expect(backAfter).toBeGreaterThanOrEqual(600);
  expect(backAfter).toBeLessThan(3000);
  expect(probes).toBeGreaterThanOrEqual(2);
  // One look before acting, one once the banner answered: no logins while it is down.
  expect(looks).toBe(2);
});
