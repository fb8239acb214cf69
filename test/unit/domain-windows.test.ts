import { validate } from '../../src/domain/config';
import { maintenanceWindowSchema } from '../../src/domain/schemas';
import { describeWindow, windowState } from '../../src/domain/windows';

const at = (iso: string) => new Date(iso);

describe('recurring maintenance windows', () => {
  const nightly = { start: '02:00', end: '05:00', timeZone: 'Europe/Berlin' };

  it('is open inside the local hours and says when it closes', () => {
    // 02:30 in Berlin (UTC+1 in winter) is 01:30 UTC.
    expect(windowState(nightly, at('2026-11-27T01:30:00Z'))).toEqual({
      open: true,
      closesAt: at('2026-11-27T04:00:00Z'),
    });
  });

  it('outside, it opens at the next local 02:00', () => {
    expect(windowState(nightly, at('2026-11-27T12:00:00Z'))).toEqual({
      open: false,
      opensAt: at('2026-11-28T01:00:00Z'),
    });
  });

  it('keeps local 02:00 across the change to summer time', () => {
    // 2027-03-28: Berlin moves to UTC+2 at 02:00 (02:00 does not exist; the window starts at 03:00 local = 01:00 UTC).
    expect(windowState(nightly, at('2027-03-27T12:00:00Z'))).toEqual({
      open: false,
      opensAt: at('2027-03-28T01:00:00Z'),
    });
    expect(windowState(nightly, at('2027-03-29T12:00:00Z'))).toEqual({
      open: false,
      opensAt: at('2027-03-30T00:00:00Z'),
    });
  });

  it('on weekdays only: Friday noon waits for Sunday', () => {
    const sundays = { start: '02:00', end: '05:00', days: ['sun' as const] };
    expect(windowState(sundays, at('2026-11-27T12:00:00Z'))).toEqual({
      open: false,
      opensAt: at('2026-11-29T02:00:00Z'),
    });
  });

  it('runs past midnight when it ends before it starts', () => {
    const lateNight = { start: '22:00', end: '03:00' };
    expect(windowState(lateNight, at('2026-11-28T01:00:00Z'))).toEqual({
      open: true,
      closesAt: at('2026-11-28T03:00:00Z'),
    });
    expect(windowState(lateNight, at('2026-11-28T03:00:00Z'))).toEqual({
      open: false,
      opensAt: at('2026-11-28T22:00:00Z'),
    });
  });
});

describe('one-off windows', () => {
  const once = { from: '2026-12-01T02:00:00Z', until: '2026-12-01T05:00:00Z' };

  it('before, inside and after', () => {
    expect(windowState(once, at('2026-11-30T00:00:00Z'))).toEqual({
      open: false,
      opensAt: at('2026-12-01T02:00:00Z'),
    });
    expect(windowState(once, at('2026-12-01T03:00:00Z'))).toEqual({
      open: true,
      closesAt: at('2026-12-01T05:00:00Z'),
    });
    expect(windowState(once, at('2026-12-01T05:00:00Z'))).toEqual({ open: false });
  });

  it('no window at all is always open', () => {
    expect(windowState(undefined, at('2026-12-01T05:00:00Z')).open).toBe(true);
  });

  it('describes itself for status and plans', () => {
    expect(describeWindow(once)).toBe('once 2026-12-01T02:00:00Z until 2026-12-01T05:00:00Z');
    expect(
      describeWindow({ start: '02:00', end: '05:00', days: ['sat', 'sun'], timeZone: 'Europe/Berlin' }),
    ).toBe('02:00-05:00 Europe/Berlin sat,sun');
  });
});

describe('window schema', () => {
  it('names the field it refuses', () => {
    const result = validate(
      maintenanceWindowSchema,
      { start: '2:00', end: '25:00', days: ['someday'], timeZone: 'Mars/Olympus' },
      'profile.rebootWindow',
    );
    expect(result.ok ? [] : result.issues).toEqual([
      "profile.rebootWindow.start must be a time of day 'HH:MM' (00:00-23:59)",
      "profile.rebootWindow.end must be a time of day 'HH:MM' (00:00-23:59)",
      'profile.rebootWindow.days[0] must be one of sun, mon, tue, wed, thu, fri, sat',
      "profile.rebootWindow.timeZone must be an IANA time zone, e.g. 'Europe/Berlin' or 'UTC'",
    ]);
  });

  it('a one-off window must end after it starts and carry a zone', () => {
    const result = validate(
      maintenanceWindowSchema,
      { from: '2026-12-01T05:00:00Z', until: '2026-12-01T02:00:00Z' },
      'profile.downloadWindow',
    );
    expect(result.ok ? [] : result.issues).toEqual(['profile.downloadWindow.until must end after it starts']);
    const noZone = validate(
      maintenanceWindowSchema,
      { from: '2026-12-01T05:00', until: '2026-12-02T02:00' },
      'w',
    );
    expect(noZone.ok ? [] : noZone.issues).toEqual([
      "w.from must be an ISO 8601 time with a zone, e.g. '2026-12-01T02:00:00Z'",
      "w.until must be an ISO 8601 time with a zone, e.g. '2026-12-01T02:00:00Z'",
    ]);
  });
});
