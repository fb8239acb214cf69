import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { settingsFromEnv } from '../settings';
import { UsageError } from './exit-codes';

/**
 * The master's configuration as the operator stages it: possibly incomplete, edited by the
 * `upgrade-profile`, `upgrade target` and `inventory` commands or by hand, validated only by
 * `write memory`. Values are kept as typed, so a hand edit is reported by field, not dropped.
 */
export interface StagedConfig {
  /** Campaign name: the masterUpgrade workflow ID. Default 'ciu'. */
  campaign: string;
  inventory: Array<Record<string, unknown>>;
  profile: Record<string, unknown> & { models: Record<string, Record<string, unknown>> };
  targets: unknown[];
}

/** What `write memory` last committed, beside the config itself. */
export interface CommittedConfig {
  campaign: string;
  committedAt: string;
  /** SHA-256 of the committed workflow input (see configHash). */
  configHash: string;
  runId?: string;
  config: unknown;
}

/** The master's config directory: `--config-dir`, else CIU_HOME, else ./.ciu. */
export function configDir(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(explicit ?? settingsFromEnv(env).home);
}

export const stagedFile = (dir: string) => join(dir, 'config.yaml');
export const committedFile = (dir: string) => join(dir, 'committed.yaml');

export function emptyConfig(): StagedConfig {
  return { campaign: 'ciu', inventory: [], profile: { models: {} }, targets: [] };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Gives a parsed YAML document the staged shape, refusing only what cannot be edited at all. */
export function toStaged(doc: unknown, file: string): StagedConfig {
  if (doc === null || doc === undefined) return emptyConfig();
  if (!isRecord(doc)) throw new UsageError(`${file}: the config must be a YAML mapping`);
  const base = emptyConfig();
  const profile = doc.profile ?? base.profile;
  if (!isRecord(profile)) throw new UsageError(`${file}: profile must be a mapping`);
  const models = profile.models ?? {};
  if (!isRecord(models) || !Object.values(models).every(isRecord))
    throw new UsageError(`${file}: profile.models must map each model to a mapping`);
  const inventory = doc.inventory ?? [];
  if (!Array.isArray(inventory) || !inventory.every(isRecord))
    throw new UsageError(`${file}: inventory must be a list of controllers`);
  const targets = doc.targets ?? [];
  if (!Array.isArray(targets)) throw new UsageError(`${file}: targets must be a list`);
  const campaign = doc.campaign ?? base.campaign;
  if (typeof campaign !== 'string') throw new UsageError(`${file}: campaign must be a string`);
  return {
    campaign,
    inventory,
    profile: { ...profile, models: models as StagedConfig['profile']['models'] },
    targets,
  };
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return parseYaml(text);
  } catch (err) {
    throw new UsageError(`${file} is not valid YAML: ${(err as Error).message}`);
  }
}

function writeAtomically(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode: 0o600 });
  renameSync(temp, file);
}

/** The staged config in `dir` (an empty one when nothing is staged yet). */
export function loadStaged(dir: string): StagedConfig {
  const file = stagedFile(dir);
  return toStaged(readYaml(file), file);
}

export function saveStaged(dir: string, config: StagedConfig): void {
  writeAtomically(stagedFile(dir), stringifyYaml(config));
}

/** The last committed config, or undefined before the first `write memory`. */
export function loadCommitted(dir: string): CommittedConfig | undefined {
  const doc = readYaml(committedFile(dir));
  return isRecord(doc) ? (doc as unknown as CommittedConfig) : undefined;
}

export function saveCommitted(dir: string, committed: CommittedConfig): void {
  writeAtomically(committedFile(dir), stringifyYaml(committed));
}
