import { failureTypes } from '../../src/domain/errors';
import { preCheckFailure, preCheckProblems, type PreCheckSubject } from '../../src/domain/pre-checks';

const ok: PreCheckSubject = {
  inventoryModel: 'A7210',
  reportedModel: 'A7210',
  bootPartition: 0,
  partition: 1,
  freeBytes: 200 * 1024 ** 2,
  imageBytes: 150 * 1024 ** 2,
};

describe('pre-checks before a download', () => {
  it('passes a controller of the listed model with room on flash, writing its other partition', () => {
    expect(preCheckProblems(ok)).toEqual([]);
  });

  it('finds a full flash before the transfer, as FlashFull with both sizes', () => {
    const problems = preCheckProblems({ ...ok, freeBytes: 35 * 1024 ** 2 });
    expect(problems).toEqual([
      { check: 'flash', type: 'FlashFull', message: '35.0 MiB free on flash, the image needs 150.0 MiB' },
    ]);
    expect(preCheckFailure(problems)).toEqual({
      type: failureTypes.flashFull,
      message: 'pre-check failed: 35.0 MiB free on flash, the image needs 150.0 MiB',
    });
  });

  it('refuses a controller whose model differs from the inventory and a target partition it booted from', () => {
    const problems = preCheckProblems({ ...ok, reportedModel: 'A7005', partition: 0 });
    expect(problems.map((p) => p.check)).toEqual(['model', 'partition']);
    expect(preCheckFailure(problems)).toEqual({
      type: failureTypes.preCheckFailed,
      message:
        'pre-check failed: the controller reports model A7005, the inventory says A7210; partition 0 is the one the controller booted from; it is never overwritten',
    });
  });

  it('an image exactly the size of the free flash fits; one byte more does not', () => {
    expect(preCheckProblems({ ...ok, freeBytes: ok.imageBytes })).toEqual([]);
    expect(preCheckProblems({ ...ok, freeBytes: ok.imageBytes - 1 }).map((p) => p.check)).toEqual(['flash']);
  });
});
