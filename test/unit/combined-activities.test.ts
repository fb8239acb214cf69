import { ApplicationFailure } from '@temporalio/common';
import { combinedSteps, type SingleSteps } from '../../activities/combined';
import { failureTypes } from '../../src/domain/errors';
import { a7210, verifiedImage } from './upgrade-fixtures';

const controller = a7210('127.0.0.5');
const target = { version: verifiedImage.version, build: verifiedImage.build };
const facts = (version: string, build: number) => ({
  model: 'A7210',
  runningVersion: version,
  runningBuild: build,
  bootPartition: 0 as const,
  partitions: [],
});

function steps(overrides: Partial<SingleSteps> = {}) {
  const order: string[] = [];
  const single: SingleSteps = {
    inspectController: async () => (order.push('inspect'), facts('6.3.1.0', 70000)),
    inspectStorage: async () => (order.push('storage'), { freeBytes: 1 << 30, sizeBytes: 2 << 30 }),
    downloadImage: async () => (order.push('download'), { bytes: 4096 }),
    verifyImageOnController: async () => void order.push('check'),
    ...overrides,
  };
  return { order, combined: combinedSteps(single) };
}

describe('lookBeforeDownload', () => {
  test('inspects, then reads the free flash', async () => {
    const { order, combined } = steps();
    const look = await combined.lookBeforeDownload({ controller, storage: true, target });
    expect(order).toEqual(['inspect', 'storage']);
    expect(look).toEqual({
      facts: facts('6.3.1.0', 70000),
      storage: { freeBytes: 1 << 30, sizeBytes: 2 << 30 },
    });
  });

  test('reads no flash with the pre-checks off, or on a controller already running the target', async () => {
    const off = steps();
    expect(await off.combined.lookBeforeDownload({ controller, storage: false, target })).not.toHaveProperty(
      'storage',
    );
    const current = steps({ inspectController: async () => facts(target.version, target.build) });
    await current.combined.lookBeforeDownload({ controller, storage: true, target });
    expect([...off.order, ...current.order]).toEqual(['inspect']);
  });

  test('an unreadable show storage is reported, not thrown; any other failure is thrown', async () => {
    const unreadable = steps({
      inspectStorage: async () => {
        throw ApplicationFailure.nonRetryable(
          'no file system mounted',
          failureTypes.unexpectedControllerReply,
        );
      },
    });
    expect(await unreadable.combined.lookBeforeDownload({ controller, storage: true, target })).toEqual({
      facts: facts('6.3.1.0', 70000),
      storageUnreadable: { type: failureTypes.unexpectedControllerReply, message: 'no file system mounted' },
    });
    const lost = steps({
      inspectStorage: async () => {
        throw ApplicationFailure.retryable('connection lost', failureTypes.controllerUnreachable);
      },
    });
    await expect(lost.combined.lookBeforeDownload({ controller, storage: true, target })).rejects.toThrow(
      'connection lost',
    );
  });
});

describe('downloadAndVerifyImage', () => {
  const input = {
    controller,
    source: {
      imageFile: 'ArubaOS_72xx_6.4.0.0_81234',
      server: { host: '127.0.0.1' },
      protocol: 'tftp' as const,
    },
    partition: 1 as const,
    campaign: 'c',
    attempt: 1,
    expected: verifiedImage,
  };

  test('checks the copy after it, and returns the copy result', async () => {
    const { order, combined } = steps();
    expect(await combined.downloadAndVerifyImage(input)).toEqual({ bytes: 4096 });
    expect(order).toEqual(['download', 'check']);
  });

  test('a failed copy is not checked; a failed check fails the call', async () => {
    const failedCopy = steps({
      downloadImage: async () => {
        throw ApplicationFailure.retryable('connection refused', failureTypes.downloadFailed);
      },
    });
    await expect(failedCopy.combined.downloadAndVerifyImage(input)).rejects.toThrow('connection refused');
    expect(failedCopy.order).toEqual([]);
    const badCheck = steps({
      verifyImageOnController: async () => {
        throw ApplicationFailure.retryable('payload SHA-256 differs', failureTypes.integrityCheckFailed);
      },
    });
    await expect(badCheck.combined.downloadAndVerifyImage(input)).rejects.toThrow('payload SHA-256 differs');
    expect(badCheck.order).toEqual(['download']);
  });
});
