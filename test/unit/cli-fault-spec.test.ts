import { UsageError } from '../../src/cli/exit-codes';
import { parseFaultSpec } from '../../devkit/simulator/fault-spec';

describe('ciu simulate --fault', () => {
  it('parses counters, flags and a wrong model, merging repeated options per IP', () => {
    let faults = parseFaultSpec('127.20.0.2:refuse-downloads=5,boot-old-version');
    faults = parseFaultSpec('127.20.0.2:wrong-model=A7005', faults);
    faults = parseFaultSpec('127.20.0.3:flash-full,unhealthy-after-upgrade', faults);
    expect(faults).toEqual({
      '127.20.0.2': { refuseDownloads: 5, bootOldVersion: true, wrongModel: 'A7005' },
      '127.20.0.3': { flashFull: true, unhealthyAfterUpgrade: true },
    });
  });

  it.each([
    ['refuse-downloads=5', /must be <ip>:<fault>/],
    ['127.20.0.2:refuse-downloads', /refuse-downloads needs a count/],
    ['127.20.0.2:wrong-model=A9', /unknown fault "wrong-model=A9"/],
    ['127.20.0.2:flash-full=yes', /unknown fault "flash-full=yes"/],
  ])('refuses %s', (spec, message) => {
    expect(() => parseFaultSpec(spec)).toThrow(UsageError);
    expect(() => parseFaultSpec(spec)).toThrow(message);
  });
});
