import { answeredWithin } from '../../src/cli/answer';
import { rerunVerdict } from '../../src/cli/commit';

const controller = (state: 'upgraded' | 'up-to-date' | 'failed' | 'purged') => ({
  ip: '127.0.0.1',
  model: 'A7210',
  state,
  attempts: 1,
});

describe('write memory of a config whose last run has ended', () => {
  it('leaves a run that took every target to a good end alone', () => {
    expect(
      rerunVerdict({
        status: 'COMPLETED',
        summary: {
          outcome: 'completed',
          controllers: [controller('upgraded'), controller('up-to-date'), controller('purged')],
        },
      }),
    ).toEqual({ rerun: false, ended: 'ended with every target upgraded, up-to-date or purged' });
  });

  it('runs again what failed: controllers, an old-style verification failure, a failed or stopped master', () => {
    expect(
      rerunVerdict({
        status: 'COMPLETED',
        summary: { outcome: 'completed', controllers: [controller('upgraded'), controller('failed')] },
      }),
    ).toEqual({ rerun: true, ended: 'ended with 1 failed controller(s)' });
    expect(
      rerunVerdict({ status: 'COMPLETED', summary: { outcome: 'verification-failed', controllers: [] } }),
    ).toEqual({ rerun: true, ended: 'ended with its image verification failed' });
    for (const status of ['FAILED', 'TERMINATED', 'CANCELLED', 'TIMED_OUT'])
      expect(rerunVerdict({ status })).toEqual({ rerun: true, ended: `ended ${status}` });
  });
});

describe('answeredWithin', () => {
  it('gives the answer that comes in time, and undefined for one that does not', async () => {
    expect(await answeredWithin(Promise.resolve('purged'), 1000)).toBe('purged');
    const late = new Promise<string>((_, reject) => setTimeout(() => reject(new Error('late')), 50));
    expect(await answeredWithin(late, 10)).toBeUndefined();
    // The late rejection is not an unhandled one.
    await new Promise((r) => setTimeout(r, 80));
  });
});
