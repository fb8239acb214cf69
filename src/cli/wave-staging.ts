import { validate } from '../domain/config';
import { failureBudgetSchema, parseBudget, wavesSchema, type Wave } from '../domain/waves';
import type { StagedConfig } from './config-file';
import { UsageError } from './exit-codes';
import { keywordPairs } from './staging';

/**
 * Edits of the staged profile's waves and failure budget (`upgrade-profile wave|no-wave|
 * max-failures|no-max-failures`), each checked by the domain schema, naming the field.
 */

const waveKeywords = {
  count: 'count',
  percent: 'percent',
  subnet: 'subnet',
  model: 'model',
  role: 'role',
  soak: 'soak',
  'max-failures': 'maxFailures',
} as const;

function stagedWaves(config: StagedConfig): Wave[] {
  const waves = config.profile.waves;
  return Array.isArray(waves) ? (waves as Wave[]) : [];
}

function withWaves(config: StagedConfig, waves: Wave[]): StagedConfig {
  const profile: StagedConfig['profile'] = { ...config.profile };
  if (waves.length === 0) delete profile.waves;
  else {
    const result = validate(wavesSchema, waves, 'profile.waves');
    if (!result.ok) throw new UsageError('wave refused', result.issues);
    profile.waves = result.value;
  }
  return { ...config, profile };
}

/** A budget word ('2' or '5%'), or a usage error naming `field`. */
function budget(text: string, field: string): number | `${number}%` {
  const parsed = parseBudget(text);
  if (parsed === undefined)
    throw new UsageError(
      `${field} must be a whole number of failures or a percentage like 5%, got "${text}"`,
    );
  return parsed;
}

/**
 * `upgrade-profile wave <name> [<n> | <p>% | count <n> | percent <p> | subnet <cidr> | model <m> |
 * role <r>] [soak <duration>] [max-failures <n|p%>]`: adds the wave at the end, or changes it in
 * place when it exists. A wave with neither size nor selector takes all remaining controllers.
 */
export function setWave(config: StagedConfig, name: string, words: readonly string[]): StagedConfig {
  const field = `profile.waves.${name}`;
  let rest = [...words];
  const wave: Record<string, unknown> = { name };
  const first = rest[0];
  if (first !== undefined && /^\d+$/.test(first)) {
    wave.count = Number(first);
    rest = rest.slice(1);
  } else if (first !== undefined && /^\d+(\.\d+)?%$/.test(first)) {
    wave.percent = Number.parseFloat(first);
    rest = rest.slice(1);
  }
  for (const [keyword, value] of keywordPairs(rest, waveKeywords, `upgrade-profile wave ${name}`)) {
    if (keyword === 'count' || keyword === 'percent') {
      const n = Number(value.replace(/%$/, ''));
      if (!Number.isFinite(n)) throw new UsageError(`${field}.${keyword} must be a number, got "${value}"`);
      wave[keyword] = n;
    } else if (keyword === 'max-failures') wave.maxFailures = budget(value, `${field}.maxFailures`);
    else wave[waveKeywords[keyword]] = value;
  }
  const waves = stagedWaves(config);
  const at = waves.findIndex((w) => w.name === name);
  const next = at >= 0 ? waves.map((w, i) => (i === at ? (wave as Wave) : w)) : [...waves, wave as Wave];
  return withWaves(config, next);
}

/** `upgrade-profile no-wave <name>` (or `all`). */
export function removeWave(config: StagedConfig, name: string): StagedConfig {
  const waves = stagedWaves(config);
  if (name === 'all') return withWaves(config, []);
  if (!waves.some((w) => w.name === name))
    throw new UsageError(
      `profile.waves has no wave "${name}" (waves: ${waves.map((w) => w.name).join(', ') || 'none'})`,
    );
  return withWaves(
    config,
    waves.filter((w) => w.name !== name),
  );
}

/** `upgrade-profile max-failures <n|p%>` (the whole campaign); `no-max-failures` removes it. */
export function setMaxFailures(config: StagedConfig, text: string | undefined): StagedConfig {
  const profile: StagedConfig['profile'] = { ...config.profile };
  if (text === undefined) delete profile.maxFailures;
  else {
    const value = budget(text, 'profile.maxFailures');
    const result = validate(failureBudgetSchema, value, 'profile.maxFailures');
    if (!result.ok) throw new UsageError('max-failures refused', result.issues);
    profile.maxFailures = result.value;
  }
  return { ...config, profile };
}
