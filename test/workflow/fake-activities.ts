import { DefaultLogger, Runtime } from '@temporalio/worker';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { combinedSteps, type StepActivities } from '../../activities/combined';
import type { ControllerFacts, UpgradeActivities } from '../../activities/types';
import { failureTypes } from '../../src/domain/errors';
import type { Controller } from '../../src/domain/types';
import type { ControllerUpgradeInput } from '../../workflows';
import { verifiedImage } from '../unit/upgrade-fixtures';

export { campaignConfig } from '../unit/upgrade-fixtures';

/** One activity call, with the server's clock at scheduling (time-skipped clock under the test server). */
export interface CallRecord {
  name: keyof UpgradeActivities;
  ip?: string;
  at: number;
}

/** The verified image every test campaign targets. */
export const targetImage = verifiedImage;

export function controller(ip: string, model: Controller['model'] = 'A7210'): Controller {
  return { ip, model, role: 'local', ssh: { host: '127.0.0.1', port: 2222 }, credentialsRef: 'ctl-admin' };
}

export function factsFor(version = '6.3.1.0', build = 70000): ControllerFacts {
  return {
    model: 'A7210',
    runningVersion: version,
    runningBuild: build,
    bootPartition: 0,
    partitions: [{ partition: 0 }, { partition: 1 }],
  };
}

export function downloadFailure(message = 'connection refused by image server'): ApplicationFailure {
  return ApplicationFailure.retryable(message, failureTypes.downloadFailed);
}

function scheduledAt(): number {
  try {
    return Context.current().info.currentAttemptScheduledTimestampMs;
  } catch {
    return Date.now();
  }
}

type Fake<K extends keyof UpgradeActivities> = jest.Mock<
  ReturnType<UpgradeActivities[K]>,
  Parameters<UpgradeActivities[K]>
>;

/** The controller an activity call is about, for the call log. */
function ipOf(arg: unknown): string | undefined {
  if (!arg || typeof arg !== 'object') return undefined;
  if ('ip' in arg && typeof arg.ip === 'string') return arg.ip;
  if ('controller' in arg) return ipOf(arg.controller);
  return undefined;
}

/** A child's input as a test starts it alone (no master): ftp, autoboot off, 15-minute retries. */
export function controllerInput(overrides: Partial<ControllerUpgradeInput> = {}): ControllerUpgradeInput {
  return {
    campaign: 'campaign-test',
    controller: controller('10.1.4.17'),
    source: {
      imageFile: 'ArubaOS_72xx_6.4.0.0_81234',
      server: { host: '127.0.0.1', port: 2121 },
      protocol: 'ftp',
      credentialsRef: 'ftp-images',
    },
    image: targetImage,
    autoboot: false,
    retryInterval: '15m',
    quickTries: 3,
    quickTryBackoff: '5s',
    partition: 'non-boot',
    ...overrides,
  };
}

/**
 * Typed jest.fn fakes of every activity, recording each call in `calls`. Defaults: the controller runs
 * an old image, downloads succeed, and after a reboot it runs the target image. `overrides` replace a
 * default; they are recorded the same way.
 */
export function fakeActivities(overrides: Partial<UpgradeActivities> = {}) {
  const calls: CallRecord[] = [];
  const rebooted = new Set<string>();
  const defaults: StepActivities = {
    loadCampaignConfig: async () => {
      throw ApplicationFailure.nonRetryable('configRef: this worker has no config store', 'InvalidInput');
    },
    verifyImage: async () => targetImage,
    inspectController: async (c) =>
      rebooted.has(c.ip) ? factsFor(targetImage.version, targetImage.build) : factsFor(),
    inspectStorage: async () => ({ freeBytes: 200 * 1024 ** 2, sizeBytes: 2 * 1024 ** 3 }),
    inspectHealth: async () => ({ found: true, status: 'up', configState: 'UPDATE SUCCESSFUL' }),
    downloadImage: async () => ({ bytes: targetImage.payloadLength }),
    verifyImageOnController: async () => undefined,
    logOnController: async () => undefined,
    rebootController: async (input) => {
      rebooted.add(input.controller.ip);
    },
  };
  function fake<K extends keyof typeof defaults>(name: K): Fake<K> {
    const impl = (overrides[name] ?? defaults[name]) as (
      ...args: Parameters<UpgradeActivities[K]>
    ) => ReturnType<UpgradeActivities[K]>;
    return jest.fn((...args: Parameters<UpgradeActivities[K]>) => {
      calls.push({ name, ip: ipOf(args[0]), at: scheduledAt() });
      return impl(...args);
    });
  }
  const single = {
    loadCampaignConfig: fake('loadCampaignConfig'),
    verifyImage: fake('verifyImage'),
    inspectController: fake('inspectController'),
    inspectStorage: fake('inspectStorage'),
    inspectHealth: fake('inspectHealth'),
    downloadImage: fake('downloadImage'),
    verifyImageOnController: fake('verifyImageOnController'),
    logOnController: fake('logOnController'),
    rebootController: fake('rebootController'),
  };
  // The combined activities call the single fakes, as the worker's call its single steps: calls are counted per step.
  const activities = { ...single, ...combinedSteps(single) } satisfies UpgradeActivities;
  return { activities, calls };
}

/**
 * Installs the SDK runtime with a logger that keeps worker errors but drops workflow log lines
 * (the loops under test log every failed try on purpose). Call once per test file, before any worker.
 */
export function installQuietRuntime(): void {
  Runtime.install({
    logger: new DefaultLogger('ERROR', (entry) => {
      if (entry.meta?.sdkComponent === 'workflow') return;
      process.stderr.write(`[${entry.level}] ${entry.message}\n`);
    }),
    // Core's own warnings go through the same logger; the time-skipping server draws one per worker
    // (it does not advertise the heartbeat-details capability), which says nothing about the test.
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
  });
}
