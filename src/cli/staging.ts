import type { z } from 'zod';
import { validate } from '../domain/config';
import {
  controllerModelSchema,
  controllerSchema,
  imageServerSchema,
  modelImageSchema,
  targetSelectorSchema,
  upgradeProfileSchema,
} from '../domain/schemas';
import type { StagedConfig } from './config-file';
import { UsageError } from './exit-codes';

/**
 * Edits of the staged config, one pure function per CLI verb. Each checks the values it sets with
 * the domain schema's rule for that field (src/domain/schemas.ts) and names the field it refuses;
 * `write memory` then validates the whole config with the same schemas.
 */

/** `value` checked by the domain schema for `field`; a UsageError naming the field otherwise. */
function check<S extends z.ZodType>(schema: S, value: unknown, field: string): z.output<S> {
  const result = validate(schema, value, field);
  if (!result.ok) throw new UsageError(result.issues.join('; '));
  return result.value;
}

const modelFields = modelImageSchema.shape;
const profileFields = upgradeProfileSchema.shape;

/** Keyword → profile field for `upgrade-profile model <model> <keyword> <value> ...`. */
const modelKeywords = {
  'image-file': 'imageFile',
  server: 'server',
  protocol: 'protocol',
  credentials: 'credentialsRef',
  version: 'expectedVersion',
  build: 'expectedBuild',
  'host-key': 'hostKey',
} as const;

/** Keyword → inventory field for `inventory add <ip> <keyword> <value> ...`. */
const inventoryKeywords = {
  model: 'model',
  role: 'role',
  ssh: 'ssh',
  credentials: 'credentialsRef',
  'host-key': 'hostKey',
  dialect: 'dialect',
  group: 'group',
  redundancy: 'redundancy',
} as const;

/** Splits `keyword value keyword value ...` into pairs, refusing unknown or dangling keywords. */
export function keywordPairs<K extends string>(
  words: readonly string[],
  allowed: Record<K, string>,
  what: string,
): Map<K, string> {
  const pairs = new Map<K, string>();
  for (let i = 0; i < words.length; i += 2) {
    const keyword = words[i] as string;
    if (!Object.prototype.hasOwnProperty.call(allowed, keyword))
      throw new UsageError(
        `${what}: unknown keyword "${keyword}" (expected one of: ${Object.keys(allowed).join(', ')})`,
      );
    const value = words[i + 1];
    if (value === undefined || value === '') throw new UsageError(`${what}: ${keyword} needs a value`);
    pairs.set(keyword as K, value);
  }
  return pairs;
}

/** Parses `host[:port]` with the domain's host and port rules; `field` names the option in errors. */
export function parseHostPort(text: string, field: string): { host: string; port?: number } {
  const match = /^([^:]+)(?::(\d+))?$/.exec(text);
  if (!match) throw new UsageError(`${field} must be host or host:port, got "${text}"`);
  const [, host, portText] = match;
  return check(
    imageServerSchema.pick({ host: true, port: true }),
    portText === undefined ? { host } : { host, port: Number(portText) },
    field,
  );
}

/** A whole number typed on the command line, checked by the domain's rule for `field`. */
function wholeNumber<S extends z.ZodDefault<z.ZodNumber> | z.ZodOptional<z.ZodNumber>>(
  schema: S,
  text: string,
  field: string,
): number | undefined {
  if (!/^\d+$/.test(text))
    throw new UsageError(
      `${field} must be a whole number >= ${schema.unwrap().minValue ?? 0}, got "${text}"`,
    );
  return check(schema as z.ZodType<number | undefined>, Number(text), field);
}

function requireModel(model: string, field: string): void {
  check(controllerModelSchema, model, field);
}

/** `upgrade-profile model <model> image-file <f> server <host[:port]> protocol <p> [credentials <ref>] [version <v>] [build <n>] [host-key <fp>]` */
export function setModelImage(config: StagedConfig, model: string, words: readonly string[]): StagedConfig {
  requireModel(model, 'model');
  const field = `profile.models.${model}`;
  const pairs = keywordPairs(words, modelKeywords, `upgrade-profile model ${model}`);
  const entry: Record<string, unknown> = { ...config.profile.models[model] };
  for (const [keyword, value] of pairs) {
    switch (keyword) {
      case 'server': {
        const previous = (entry.server ?? {}) as Record<string, unknown>;
        const { host, port } = parseHostPort(value, `${field}.server`);
        const server: Record<string, unknown> = { host };
        if (port !== undefined) server.port = port;
        if (previous.hostKey !== undefined) server.hostKey = previous.hostKey;
        entry.server = server;
        break;
      }
      case 'host-key':
        entry.server = {
          ...((entry.server ?? {}) as Record<string, unknown>),
          hostKey: check(imageServerSchema.shape.hostKey, value, `${field}.server.hostKey`),
        };
        break;
      case 'build':
        entry.expectedBuild = wholeNumber(modelFields.expectedBuild, value, `${field}.expectedBuild`);
        break;
      default: {
        const key = modelKeywords[keyword];
        entry[key] = check(modelFields[key], value, `${field}.${key}`);
      }
    }
  }
  return { ...config, profile: { ...config.profile, models: { ...config.profile.models, [model]: entry } } };
}

/** `upgrade-profile no-model <model>` */
export function removeModelImage(config: StagedConfig, model: string): StagedConfig {
  if (!Object.prototype.hasOwnProperty.call(config.profile.models, model))
    throw new UsageError(`profile.models.${model} is not in the staged profile`);
  const { [model]: _removed, ...models } = config.profile.models;
  return { ...config, profile: { ...config.profile, models } };
}

export function setAutoboot(config: StagedConfig, autoboot: boolean): StagedConfig {
  return { ...config, profile: { ...config.profile, autoboot } };
}

/** `upgrade-profile allow-unsigned` / `no-allow-unsigned` (which drops the field: unsigned images are refused by default). */
export function setAllowUnsigned(config: StagedConfig, allowUnsigned: boolean): StagedConfig {
  const { allowUnsigned: _previous, ...profile } = config.profile;
  return { ...config, profile: allowUnsigned ? { ...profile, allowUnsigned } : profile };
}

export function setMaxDownloads(config: StagedConfig, text: string): StagedConfig {
  const maxDownloads = wholeNumber(profileFields.maxDownloads, text, 'profile.maxDownloads');
  return { ...config, profile: { ...config.profile, maxDownloads } };
}

export function setQuickTries(config: StagedConfig, text: string): StagedConfig {
  const quickTries = wholeNumber(profileFields.quickTries, text, 'profile.quickTries');
  return { ...config, profile: { ...config.profile, quickTries } };
}

export function setRetryInterval(config: StagedConfig, text: string): StagedConfig {
  const retryInterval = check(profileFields.retryInterval, text, 'profile.retryInterval');
  return { ...config, profile: { ...config.profile, retryInterval } };
}

export function setQuickTryBackoff(config: StagedConfig, text: string): StagedConfig {
  const quickTryBackoff = check(profileFields.quickTryBackoff, text, 'profile.quickTryBackoff');
  return { ...config, profile: { ...config.profile, quickTryBackoff } };
}

export function setRebootTimeout(config: StagedConfig, text: string): StagedConfig {
  const rebootTimeout = check(profileFields.rebootTimeout, text, 'profile.rebootTimeout');
  return { ...config, profile: { ...config.profile, rebootTimeout } };
}

export function setPartition(config: StagedConfig, text: string): StagedConfig {
  const typed = text === '0' ? 0 : text === '1' ? 1 : text;
  const partition = check(profileFields.partition, typed, 'profile.partition');
  return { ...config, profile: { ...config.profile, partition } };
}

export function setCampaign(config: StagedConfig, name: string): StagedConfig {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name))
    throw new UsageError(`campaign must be 1-100 letters, digits, '.', '_' or '-', got "${name}"`);
  return { ...config, campaign: name };
}

function requireSelector(text: string): string {
  return check(targetSelectorSchema, text.trim(), `target`).trim();
}

/** `upgrade target add <ip|subnet|all>` — adding one already staged is a no-op. */
export function addTarget(config: StagedConfig, text: string): StagedConfig {
  const selector = requireSelector(text);
  return config.targets.includes(selector) ? config : { ...config, targets: [...config.targets, selector] };
}

/** `upgrade target remove <ip|subnet|all>` — removes that exact selector (a committed removal clears it). */
export function removeTarget(config: StagedConfig, text: string): StagedConfig {
  const selector = requireSelector(text);
  if (!config.targets.includes(selector)) throw new UsageError(`target "${selector}" is not staged`);
  return { ...config, targets: config.targets.filter((t) => t !== selector) };
}

/** `inventory add <ip> model <m> role <local|standby> credentials <ref> [ssh <host[:port]>] [host-key <fp>] [dialect <d>] [group <g> [redundancy <active|standby>]]` */
export function addController(config: StagedConfig, ip: string, words: readonly string[]): StagedConfig {
  const field = `inventory[${ip}]`;
  const pairs = keywordPairs(words, inventoryKeywords, `inventory add ${ip}`);
  const sshText = pairs.get('ssh');
  const { host, port } = sshText ? parseHostPort(sshText, `${field}.ssh`) : { host: ip, port: undefined };
  const hostKey = pairs.get('host-key');
  const controller = check(
    controllerSchema,
    {
      ip,
      model: pairs.get('model'),
      role: pairs.get('role'),
      ssh: { host, port: port ?? 22, ...(hostKey ? { hostKey } : {}) },
      credentialsRef: pairs.get('credentials'),
      ...(pairs.get('dialect') ? { dialect: pairs.get('dialect') } : {}),
      ...(pairs.get('group') ? { group: pairs.get('group') } : {}),
      ...(pairs.get('redundancy') ? { redundancy: pairs.get('redundancy') } : {}),
    },
    field,
  );
  return upsertControllers(config, [controller]);
}

/** Adds controllers, replacing any with the same IP (so a re-import updates, never duplicates). */
export function upsertControllers(
  config: StagedConfig,
  controllers: Array<Record<string, unknown>>,
): StagedConfig {
  const incoming = new Map(controllers.map((c) => [c.ip, c]));
  const kept = config.inventory.filter((c) => !incoming.has(c.ip));
  return { ...config, inventory: [...kept, ...incoming.values()] };
}

/** `inventory remove <ip>` */
export function removeController(config: StagedConfig, ip: string): StagedConfig {
  if (!config.inventory.some((c) => c.ip === ip)) throw new UsageError(`inventory has no controller ${ip}`);
  return { ...config, inventory: config.inventory.filter((c) => c.ip !== ip) };
}
