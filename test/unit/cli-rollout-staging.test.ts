import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyConfig, loadStaged, saveStaged } from '../../src/cli/config-file';
import { UsageError } from '../../src/cli/exit-codes';
import {
  removeWindow,
  setFallback,
  setPreChecks,
  setStartAt,
  setWindow,
} from '../../src/cli/rollout-staging';
import { validate } from '../../src/domain/config';
import { upgradeProfileSchema } from '../../src/domain/schemas';

describe('staging the rollout controls', () => {
  test('a weekly reboot window in a time zone, a one-off download window, fallback, no pre-checks, start-at', () => {
    let config = emptyConfig();
    config = setWindow(config, 'rebootWindow', [
      '02:00-05:00',
      'days',
      'Sat,sun',
      'time-zone',
      'Europe/Berlin',
    ]);
    config = setWindow(config, 'downloadWindow', ['once', '2026-12-01T02:00Z', '2026-12-01T05:00Z']);
    config = setFallback(config, true);
    config = setPreChecks(config, false);
    config = setStartAt(config, '2026-11-30T22:00:00+01:00');
    expect(config.profile).toEqual({
      models: {},
      rebootWindow: { start: '02:00', end: '05:00', days: ['sat', 'sun'], timeZone: 'Europe/Berlin' },
      downloadWindow: { from: '2026-12-01T02:00Z', until: '2026-12-01T05:00Z' },
      fallback: true,
      preChecks: false,
      startAt: '2026-11-30T22:00:00+01:00',
    });
    expect(removeWindow(setStartAt(config, 'now'), 'rebootWindow').profile).toEqual({
      models: {},
      downloadWindow: { from: '2026-12-01T02:00Z', until: '2026-12-01T05:00Z' },
      fallback: true,
      preChecks: false,
    });
  });

  test('the staged file keeps 02:00 a time of day (not YAML 1.1 sexagesimal) and write memory accepts it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ciu-rollout-'));
    try {
      saveStaged(dir, setWindow(emptyConfig(), 'rebootWindow', ['02:00-05:00']));
      const profile = loadStaged(dir).profile;
      expect(profile.rebootWindow).toEqual({ start: '02:00', end: '05:00' });
      expect(validate(upgradeProfileSchema, profile, 'profile').ok).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bad values are refused naming the field', () => {
    const refused = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(UsageError);
        return (err as Error).message;
      }
      throw new Error('not refused');
    };
    expect(refused(() => setWindow(emptyConfig(), 'rebootWindow', ['2-5']))).toBe(
      "profile.rebootWindow.start must be a time of day 'HH:MM' (00:00-23:59); profile.rebootWindow.end must be a time of day 'HH:MM' (00:00-23:59)",
    );
    expect(
      refused(() => setWindow(emptyConfig(), 'downloadWindow', ['02:00-05:00', 'time-zone', 'Mars/Base'])),
    ).toBe("profile.downloadWindow.timeZone must be an IANA time zone, e.g. 'Europe/Berlin' or 'UTC'");
    expect(
      refused(() => setWindow(emptyConfig(), 'downloadWindow', ['02:00-05:00', 'weekly', 'yes'])),
    ).toMatch(/unknown keyword "weekly"/);
    expect(refused(() => setWindow(emptyConfig(), 'rebootWindow', ['once', '2026-12-01T05:00Z']))).toMatch(
      /^profile.rebootWindow: once needs <from> <until>/,
    );
    expect(refused(() => setStartAt(emptyConfig(), '2026-12-01 02:00'))).toBe(
      "profile.startAt must be an ISO 8601 time with a zone, e.g. '2026-12-01T02:00:00Z'",
    );
  });
});
