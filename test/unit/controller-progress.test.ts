import { ControllerProgress, QuickTryCycle, targetPartition } from '../../workflows/controller-progress';
import { a7210, verifiedImage } from './upgrade-fixtures';

const subject = {
  controller: a7210('10.1.4.17'),
  source: {
    imageFile: 'ArubaOS_72xx_6.4.0.0_81234',
    server: { host: '127.0.0.1' },
    protocol: 'ftp' as const,
  },
  image: verifiedImage,
  quickTries: 3,
};
const now = new Date('2026-03-01T08:00:00Z');

describe('the quick-try cycle', () => {
  test('three tries, then the cycle is over; a permanent failure gives up on the first', () => {
    const cycle = new QuickTryCycle(3, 20, 0);
    expect(cycle.afterFailure(1, false)).toBe('try-again');
    expect(cycle.afterFailure(2, false)).toBe('try-again');
    expect(cycle.afterFailure(3, false)).toBe('cycle-over');
    expect(cycle.afterFailure(1, true)).toBe('give-up');
  });

  test('continues as new after cyclesPerRun cycles of this run, or when the server suggests it', () => {
    const cycle = new QuickTryCycle(3, 2, 40);
    cycle.endCycle();
    expect(cycle.continueAsNew(false)).toBe(false);
    expect(cycle.continueAsNew(true)).toBe(true);
    cycle.endCycle();
    expect(cycle.continueAsNew(false)).toBe(true);
    // Cycles count across runs (the carried 40), the per-run limit only this run's.
    expect(cycle.cycles).toBe(42);
  });
});

describe("a controller's progress", () => {
  test('starts from what the previous run carried', () => {
    const progress = new ControllerProgress(subject, {
      attempts: 6,
      cycles: 2,
      run: 2,
      lastError: 'DownloadFailed: refused',
      facts: {
        model: 'A7210',
        runningVersion: '6.3.1.0',
        runningBuild: 70000,
        bootPartition: 0,
        partitions: [],
      },
    });
    expect(progress.status).toMatchObject({
      state: 'pending',
      attempts: 6,
      lastError: 'DownloadFailed: refused',
      runningVersion: '6.3.1.0',
      targetVersion: '6.4.0.0',
      targetBuild: 81234,
    });
    expect(progress.result(2)).toMatchObject({ ip: '10.1.4.17', attempts: 6, cycles: 2 });
  });

  test('a change says which search attributes it touches, and drops fields of the state it left', () => {
    const progress = new ControllerProgress(subject, { attempts: 0, cycles: 0, run: 1 });
    expect(progress.set({ state: 'downloading', attempt: 1, attempts: 1 }, now)).toEqual({
      state: 'downloading',
      attempts: 1,
    });
    expect(progress.details()).toBe('**Downloading**\n\nattempt 1/3, 1 in all');
    expect(progress.set({ lastError: 'DownloadFailed: refused' }, now)).toEqual({});
    expect(progress.set({ state: 'waiting-retry', nextRetryAt: '2026-03-01T08:15:00.000Z' }, now)).toEqual({
      state: 'waiting-retry',
    });
    expect(progress.status.attempt).toBeUndefined();
    expect(progress.details()).toBe(
      '**Waiting for retry**\n\nnext cycle at 2026-03-01T08:15:00.000Z\n\nlast error: DownloadFailed: refused',
    );
    progress.set({ state: 'downloading', attempt: 1, attempts: 2 }, now);
    expect(progress.status.nextRetryAt).toBeUndefined();
    expect(progress.status.updatedAt).toBe('2026-03-01T08:00:00.000Z');
  });

  test('the target is exactly the verified version and build', () => {
    const progress = new ControllerProgress(subject, { attempts: 0, cycles: 0, run: 1 });
    expect(progress.runsTarget('6.4.0.0', 81234)).toBe(true);
    expect(progress.runsTarget('6.4.0.0', 81233)).toBe(false);
  });
});

test('the non-boot partition is the one the controller did not boot from', () => {
  const facts = { model: 'A7210', runningVersion: '6.3', runningBuild: 1, partitions: [] };
  expect(targetPartition('non-boot', { ...facts, bootPartition: 0 })).toBe(1);
  expect(targetPartition('non-boot', { ...facts, bootPartition: 1 })).toBe(0);
  expect(targetPartition(0, { ...facts, bootPartition: 0 })).toBe(0);
});
