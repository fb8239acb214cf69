import type { z } from 'zod';
import { validate } from '../domain/config';
import { maintenanceWindowSchema, upgradeProfileSchema } from '../domain/schemas';
import type { StagedConfig } from './config-file';
import { UsageError } from './exit-codes';
import { keywordPairs } from './staging';

/**
 * Edits of the staged profile's rollout controls — pre-checks, fallback, download and reboot
 * windows, start-at — each checked by the domain schema's rule for its field.
 */

const profileFields = upgradeProfileSchema.shape;

function check<S extends z.ZodType>(schema: S, value: unknown, field: string): z.output<S> {
  const result = validate(schema, value, field);
  if (!result.ok) throw new UsageError(result.issues.join('; '));
  return result.value;
}

function withProfile(config: StagedConfig, field: string, value: unknown): StagedConfig {
  const profile: StagedConfig['profile'] = { ...config.profile };
  if (value === undefined) delete profile[field];
  else profile[field] = value;
  return { ...config, profile };
}

/** `upgrade-profile pre-checks|no-pre-checks` */
export function setPreChecks(config: StagedConfig, on: boolean): StagedConfig {
  return withProfile(config, 'preChecks', on);
}

/** `upgrade-profile fallback|no-fallback` */
export function setFallback(config: StagedConfig, on: boolean): StagedConfig {
  return withProfile(config, 'fallback', on);
}

/** Which window a `download-window` / `reboot-window` command sets. */
export type WindowField = 'downloadWindow' | 'rebootWindow';

const windowKeywords = { days: 'days', 'time-zone': 'timeZone' } as const;

/**
 * `upgrade-profile <download|reboot>-window HH:MM-HH:MM [days mon,tue] [time-zone <IANA zone>]` or
 * `… once <from> <until>` (ISO 8601 with a zone).
 */
export function setWindow(config: StagedConfig, field: WindowField, words: readonly string[]): StagedConfig {
  const name = `profile.${field}`;
  const [first, ...rest] = words;
  if (first === 'once') {
    if (rest.length !== 2)
      throw new UsageError(
        `${name}: once needs <from> <until>, e.g. once 2026-12-01T02:00Z 2026-12-01T05:00Z`,
      );
    return withProfile(
      config,
      field,
      check(maintenanceWindowSchema, { from: rest[0], until: rest[1] }, name),
    );
  }
  const hours = /^([^-]+)-([^-]+)$/.exec(first ?? '');
  if (!hours)
    throw new UsageError(
      `${name} must be HH:MM-HH:MM [days mon,tue] [time-zone <zone>] or once <from> <until>`,
    );
  const pairs = keywordPairs(
    rest,
    windowKeywords,
    `upgrade-profile ${field === 'downloadWindow' ? 'download' : 'reboot'}-window`,
  );
  const window: Record<string, unknown> = { start: hours[1], end: hours[2] };
  const days = pairs.get('days');
  if (days !== undefined) window.days = days.split(',').map((d) => d.trim().toLowerCase());
  const zone = pairs.get('time-zone');
  if (zone !== undefined) window.timeZone = zone;
  return withProfile(config, field, check(maintenanceWindowSchema, window, name));
}

/** `upgrade-profile no-download-window|no-reboot-window` */
export function removeWindow(config: StagedConfig, field: WindowField): StagedConfig {
  return withProfile(config, field, undefined);
}

/** `upgrade campaign start-at <time>`; `now` clears it. */
export function setStartAt(config: StagedConfig, text: string): StagedConfig {
  if (text === 'now') return withProfile(config, 'startAt', undefined);
  return withProfile(config, 'startAt', check(profileFields.startAt, text, 'profile.startAt'));
}
