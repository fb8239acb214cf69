import { isKnownModel, knownModels } from '../domain/models';
import { parseDuration } from '../domain/duration';
import { isIPv4, protocols } from '../domain/rules';
import { parseSelector } from '../domain/targets';
import type { StagedConfig } from './config-file';
import { UsageError } from './exit-codes';

/**
 * Edits of the staged config, one pure function per CLI verb. Each checks its own arguments and
 * names the field it refuses; `write memory` then validates the whole config with the domain schema.
 */

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

/** Parses `host[:port]`; `field` names the option in errors. */
export function parseHostPort(text: string, field: string): { host: string; port?: number } {
  const match = /^([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(text);
  if (!match) throw new UsageError(`${field} must be host or host:port, got "${text}"`);
  const [, host, portText] = match;
  if (portText === undefined) return { host: host as string };
  const port = Number(portText);
  if (port < 1 || port > 65535) throw new UsageError(`${field} port must be 1..65535, got ${portText}`);
  return { host: host as string, port };
}

function positiveInt(text: string, field: string, min = 1): number {
  if (!/^\d+$/.test(text) || Number(text) < min)
    throw new UsageError(`${field} must be a whole number >= ${min}, got "${text}"`);
  return Number(text);
}

function requireModel(model: string, field: string): void {
  if (!isKnownModel(model))
    throw new UsageError(
      `${field} "${model}" is not a known controller model (known: ${knownModels.join(', ')})`,
    );
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
        entry.server = { ...((entry.server ?? {}) as Record<string, unknown>), hostKey: value };
        break;
      case 'protocol':
        if (!(protocols as readonly string[]).includes(value))
          throw new UsageError(`${field}.protocol must be one of ${protocols.join(', ')}, got "${value}"`);
        entry.protocol = value;
        break;
      case 'build':
        entry.expectedBuild = positiveInt(value, `${field}.expectedBuild`, 0);
        break;
      default:
        entry[modelKeywords[keyword]] = value;
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

export function setMaxDownloads(config: StagedConfig, text: string): StagedConfig {
  return {
    ...config,
    profile: { ...config.profile, maxDownloads: positiveInt(text, 'profile.maxDownloads') },
  };
}

export function setQuickTries(config: StagedConfig, text: string): StagedConfig {
  return { ...config, profile: { ...config.profile, quickTries: positiveInt(text, 'profile.quickTries') } };
}

export function setRetryInterval(config: StagedConfig, text: string): StagedConfig {
  if (parseDuration(text) === undefined)
    throw new UsageError(`profile.retryInterval must be a duration such as 15m, 30s or 2h, got "${text}"`);
  return { ...config, profile: { ...config.profile, retryInterval: text } };
}

export function setQuickTryBackoff(config: StagedConfig, text: string): StagedConfig {
  if (parseDuration(text) === undefined)
    throw new UsageError(`profile.quickTryBackoff must be a duration such as 5s or 500ms, got "${text}"`);
  return { ...config, profile: { ...config.profile, quickTryBackoff: text } };
}

export function setPartition(config: StagedConfig, text: string): StagedConfig {
  const partition = text === 'non-boot' ? text : text === '0' ? 0 : text === '1' ? 1 : undefined;
  if (partition === undefined)
    throw new UsageError(`profile.partition must be non-boot, 0 or 1, got "${text}"`);
  return { ...config, profile: { ...config.profile, partition } };
}

export function setCampaign(config: StagedConfig, name: string): StagedConfig {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name))
    throw new UsageError(`campaign must be 1-100 letters, digits, '.', '_' or '-', got "${name}"`);
  return { ...config, campaign: name };
}

function requireSelector(text: string): string {
  if (!parseSelector(text))
    throw new UsageError(`target "${text}" must be an IPv4 address, a CIDR subnet (10.1.4.0/24) or all`);
  return text.trim();
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

/** `inventory add <ip> model <m> role <local|standby> credentials <ref> [ssh <host[:port]>] [host-key <fp>] [dialect <d>]` */
export function addController(config: StagedConfig, ip: string, words: readonly string[]): StagedConfig {
  if (!isIPv4(ip)) throw new UsageError(`inventory controller ip must be an IPv4 address, got "${ip}"`);
  const field = `inventory[${ip}]`;
  const pairs = keywordPairs(words, inventoryKeywords, `inventory add ${ip}`);
  const model = pairs.get('model');
  const role = pairs.get('role');
  const credentialsRef = pairs.get('credentials');
  if (!model || !role || !credentialsRef)
    throw new UsageError(`inventory add ${ip}: model, role and credentials are required`);
  requireModel(model, `${field}.model`);
  if (role !== 'local' && role !== 'standby')
    throw new UsageError(`${field}.role must be local or standby, got "${role}"`);
  const sshText = pairs.get('ssh');
  const { host, port } = sshText ? parseHostPort(sshText, `${field}.ssh`) : { host: ip, port: undefined };
  const ssh: Record<string, unknown> = { host, port: port ?? 22 };
  const hostKey = pairs.get('host-key');
  if (hostKey) ssh.hostKey = hostKey;
  const dialect = pairs.get('dialect');
  return upsertControllers(config, [
    { ip, model, role, ssh, credentialsRef, ...(dialect ? { dialect } : {}) },
  ]);
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
