/**
 * What each controller dialect can be asked to do, as data the profile check, the activities and
 * the driver share. Pure: no I/O.
 */
import type { Protocol } from './rules';
import { resolveTargets } from './targets';
import type { Controller } from './types';

/** Controller CLI dialects ciu speaks. */
export const dialectNames = ['arubaos', 'arubaos-ext'] as const;
export type DialectName = (typeof dialectNames)[number];

/** The dialect of a controller whose inventory entry names none. */
export const defaultDialect: DialectName = 'arubaos';

/** What a dialect's `copy` command can express. */
export interface DialectSpec {
  /** Protocols its `copy <protocol>:` documents. */
  protocols: readonly Protocol[];
  /** `copy` takes a `port <n>` clause; without it only the protocol's well-known port can be used. */
  serverPort: boolean;
  /** `copy` takes a `host-key <fingerprint>` clause for scp/sftp. */
  serverHostKey: boolean;
  /**
   * Where free flash is read before a download: the command (ArubaOS `show storage`, a `df`-style
   * table) and the mount point of the file system `copy` stages images on.
   */
  storage: { command: 'show storage'; mount: string };
  /**
   * The controller's own health view after a reboot: the command, and the configuration states of
   * its own row that mean it is not healthy (besides a Status other than `up`).
   */
  health: { command: 'show switches'; failedConfigStates: RegExp };
}

/** ArubaOS 6.x/8.x: `show storage` lists its file systems; images are staged on /flash. */
const arubaStorage = { command: 'show storage', mount: '/flash' } as const;
/** ArubaOS 6.x/8.x: its own row of `show switches` (Status, Configuration State). */
const arubaHealth = { command: 'show switches', failedConfigStates: /FAIL|ERROR/i } as const;

export const dialects: Record<DialectName, DialectSpec> = {
  /** ArubaOS 6.x/8.x as documented: `copy ftp:|scp:|tftp: … system: partition {0|1}`. */
  arubaos: {
    protocols: ['ftp', 'scp', 'tftp'],
    serverPort: false,
    serverHostKey: false,
    storage: arubaStorage,
    health: arubaHealth,
  },
  /** ArubaOS plus the ciu simulator's extensions: ftps, sftp, http, port and host-key clauses. */
  'arubaos-ext': {
    protocols: ['ftp', 'ftps', 'scp', 'sftp', 'tftp', 'http'],
    serverPort: true,
    serverHostKey: true,
    storage: arubaStorage,
    health: arubaHealth,
  },
};

export function isDialectName(value: unknown): value is DialectName {
  return typeof value === 'string' && (dialectNames as readonly string[]).includes(value);
}

/** The well-known port of each protocol: the only one a dialect without a port clause reaches. */
export const defaultPorts: Record<Protocol, number> = {
  ftp: 21,
  ftps: 21,
  scp: 22,
  sftp: 22,
  tftp: 69,
  http: 80,
};

/** One model's image source as far as the dialect check cares. */
export interface SourceForDialect {
  protocol: Protocol;
  server: { port?: number; hostKey?: string };
}

/**
 * Why `dialect` cannot fetch from `source`, as `[field, message]` pairs (field relative to the
 * model's profile entry); empty when it can.
 */
export function dialectProblems(dialect: DialectName, source: SourceForDialect): Array<[string, string]> {
  const spec = dialects[dialect];
  const problems: Array<[string, string]> = [];
  if (!spec.protocols.includes(source.protocol))
    problems.push([
      'protocol',
      `${source.protocol} cannot be used with ${dialect} controllers (they copy over ${spec.protocols.join(', ')})`,
    ]);
  const port = source.server.port;
  if (!spec.serverPort && port !== undefined && port !== defaultPorts[source.protocol])
    problems.push([
      'server.port',
      `must be ${defaultPorts[source.protocol]} (or omitted) for ${dialect} controllers: their copy command has no port clause`,
    ]);
  return problems;
}

/** What the campaign check needs of a validated config. */
export interface ConfigForDialects {
  inventory: ReadonlyArray<{ ip: string; model: string; dialect?: DialectName }>;
  profile: { models: Record<string, SourceForDialect | undefined> };
}

/**
 * One message per model whose image source a targeted controller's dialect cannot fetch, naming
 * the field (`profile.models.A7210.server.port must be 21 …`). `write memory`, a new masterUpgrade
 * run (behind patched(), so campaigns started before this rule replay) and the commitConfig
 * validator refuse on these; the driver refuses the same values in the activities.
 */
export function campaignDialectIssues(config: ConfigForDialects & { targets: readonly string[] }): string[] {
  const targetedIps = new Set(
    resolveTargets(config.inventory as Controller[], [...config.targets]).controllers.map((c) => c.ip),
  );
  const targeted = (ip: string) => targetedIps.has(ip);
  const issues = new Set<string>();
  for (const controller of config.inventory) {
    const source = config.profile.models[controller.model];
    if (!source || !targeted(controller.ip)) continue;
    for (const [field, message] of dialectProblems(controller.dialect ?? defaultDialect, source))
      issues.add(`profile.models.${controller.model}.${field} ${message}`);
  }
  return [...issues];
}
