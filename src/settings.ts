/**
 * The one place ciu reads its process environment. Every other module takes these values as options,
 * so what a worker or a `ciu` call does depends on flags and this table, nothing read deep inside.
 */
import { parseDuration } from './domain/duration';

/** Each variable ciu reads, with what it sets (README "Settings" lists the same). */
export const settingVariables = {
  TEMPORAL_ADDRESS: 'Temporal frontend host:port (default 127.0.0.1:7233)',
  TEMPORAL_NAMESPACE: "Temporal namespace (default 'default')",
  TEMPORAL_CONFIG_FILE:
    "Temporal's TOML profile file (default ~/.config/temporalio/temporal.toml, read when it exists)",
  TEMPORAL_PROFILE: "profile of that file to use (default 'default')",
  TEMPORAL_API_KEY: 'API key sent as `authorization: Bearer …` (turns TLS on, e.g. Temporal Cloud)',
  TEMPORAL_TLS: '1/true: TLS to Temporal with the system CAs; 0/false: no TLS even if the profile sets some',
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: 'PEM CA that signs the Temporal frontend certificate (turns TLS on)',
  TEMPORAL_TLS_SERVER_CA_CERT_DATA: 'the same CA, inline PEM',
  TEMPORAL_TLS_SERVER_NAME: "name the frontend's certificate must carry (default: the address's host)",
  TEMPORAL_TLS_CLIENT_CERT_PATH: 'PEM client certificate for mTLS (with the key)',
  TEMPORAL_TLS_CLIENT_CERT_DATA: 'the same certificate, inline PEM',
  TEMPORAL_TLS_CLIENT_KEY_PATH: 'PEM private key of that certificate',
  TEMPORAL_TLS_CLIENT_KEY_DATA: 'the same key, inline PEM',
  CIU_HOME: "the master's config directory for `ciu` (default ./.ciu)",
  CIU_CREDENTIALS_FILE: 'YAML/JSON credential store the worker resolves credentials references in',
  CIU_CONFIG_STORE:
    'directory `ciu` and every worker share for configs passed by reference (default none: configs inline)',
  CIU_KNOWN_HOSTS: 'known_hosts file for SSH endpoints whose host key the credential store does not list',
  CIU_TLS_CA_FILE: 'CA bundle trusted for ftps image servers (default: the system CAs)',
  CIU_PAYLOAD_KEYS:
    'key file (mode 600) encrypting payloads: worker, `ciu`, codec server (default: payloads in clear)',
  CIU_MESSAGE_KEYS:
    "workers' key file (mode 600) authenticating internal messages (required by `ciu worker`)",
  CIU_SSH_LEGACY_ALGORITHMS:
    'comma-separated SHA-1-era SSH algorithms to allow again (ssh-rsa, hmac-sha1, …)',
  CIU_LOG_LEVEL: 'pino log level (default info)',
  CIU_LOG_PRETTY:
    '1 renders log lines for humans (pino-pretty), 0 keeps JSON; unset: JSON, but pretty for the demo',
  CIU_METRICS: "host:port of ciu's Prometheus endpoint for `ciu worker` (default off)",
  CIU_SDK_METRICS: "host:port of the Temporal runtime's Prometheus endpoint (default off)",
  CIU_DOWNLOAD_STALL_TIMEOUT:
    'a download with no byte progress this long fails as DownloadStalled (default 60s)',
  CIU_SHUTDOWN_GRACE:
    'after SIGTERM/SIGINT, how long running activities may finish before they are cancelled (default 10s)',
  CIU_SHUTDOWN_FORCE:
    'after SIGTERM/SIGINT, by when the worker stops even if an activity has not (default 30s)',
  CIU_IMAGE_KEYS:
    'comma-separated public-key files (`ciu image keygen`) of image signers to trust (default none)',
  CIU_WORKFLOW_CACHE_SIZE:
    'workflow runs a worker keeps in memory, about 0.7 MB each (default 250; README "Performance")',
} as const;

/**
 * Temporal's own environment-configuration variables (TEMPORAL_ADDRESS … TEMPORAL_TLS_CLIENT_KEY_DATA
 * above): src/temporal/connection.ts hands them to @temporalio/envconfig, which merges them over the
 * profile file. HOME and XDG_CONFIG_HOME only locate that file's default path.
 */
const temporalConnectionVariables = [
  ...Object.keys(settingVariables).filter((name) => name.startsWith('TEMPORAL_')),
  'HOME',
  'XDG_CONFIG_HOME',
];

/** The Temporal connection variables `env` sets (an empty value counts as unset, as everywhere here). */
export function temporalConnectionEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of temporalConnectionVariables) {
    const value = optional(env[name]);
    if (value !== undefined) picked[name] = value;
  }
  return picked;
}

/** Everything the environment configures, resolved with its defaults. */
export interface CiuSettings {
  home: string;
  credentialsFile?: string;
  /** Unset: configs travel inline only, up to maxConfigBytes. */
  configStore?: string;
  knownHostsFile?: string;
  tlsCaFile?: string;
  payloadKeysFile?: string;
  messageKeysFile?: string;
  sshLegacyAlgorithms: string[];
  logLevel: string;
  /** Unset: each entry point's own default. */
  logPretty?: boolean;
  metricsAddress?: string;
  sdkMetricsAddress?: string;
  /** Unset: the worker's defaults (60 s, 10 s, 30 s). */
  downloadStallMs?: number;
  shutdownGraceMs?: number;
  shutdownForceMs?: number;
  /** Unset: the worker trusts no image signer, so only profiles with allowUnsigned verify. */
  imageKeyFiles?: string[];
  /** Unset: workers/worker.ts workflowCacheSize. */
  workflowCacheSize?: number;
}

/** A duration variable ('60s', '2m') in ms; a bad value names the variable. */
function duration(env: NodeJS.ProcessEnv, name: keyof typeof settingVariables): number | undefined {
  const text = optional(env[name]);
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms < 1000)
    throw new Error(`${name} must be a duration of at least 1s ('60s', '2m'), got "${text}"`);
  return ms;
}

/** A whole-number variable of at least `min`; a bad value names the variable. */
function count(env: NodeJS.ProcessEnv, name: keyof typeof settingVariables, min: number): number | undefined {
  const text = optional(env[name]);
  if (text === undefined) return undefined;
  const value = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min)
    throw new Error(`${name} must be a whole number of at least ${min}, got "${text}"`);
  return value;
}

function optional(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** A comma-separated variable's entries, trimmed, empty ones dropped. */
function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/** Reads the variables in settingVariables from `env`, except Temporal's (temporalConnectionEnv). */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): CiuSettings {
  const settings: CiuSettings = {
    home: optional(env.CIU_HOME) ?? '.ciu',
    sshLegacyAlgorithms: list(env.CIU_SSH_LEGACY_ALGORITHMS),
    logLevel: optional(env.CIU_LOG_LEVEL) ?? 'info',
  };
  const files = {
    credentialsFile: optional(env.CIU_CREDENTIALS_FILE),
    configStore: optional(env.CIU_CONFIG_STORE),
    knownHostsFile: optional(env.CIU_KNOWN_HOSTS),
    tlsCaFile: optional(env.CIU_TLS_CA_FILE),
    payloadKeysFile: optional(env.CIU_PAYLOAD_KEYS),
    messageKeysFile: optional(env.CIU_MESSAGE_KEYS),
    metricsAddress: optional(env.CIU_METRICS),
    sdkMetricsAddress: optional(env.CIU_SDK_METRICS),
  };
  if (env.CIU_LOG_PRETTY === '1' || env.CIU_LOG_PRETTY === '0')
    settings.logPretty = env.CIU_LOG_PRETTY === '1';
  const durations = {
    downloadStallMs: duration(env, 'CIU_DOWNLOAD_STALL_TIMEOUT'),
    shutdownGraceMs: duration(env, 'CIU_SHUTDOWN_GRACE'),
    shutdownForceMs: duration(env, 'CIU_SHUTDOWN_FORCE'),
  };
  for (const [key, value] of Object.entries({ ...files, ...durations }))
    if (value !== undefined) Object.assign(settings, { [key]: value });
  const workflowCacheSize = count(env, 'CIU_WORKFLOW_CACHE_SIZE', 1);
  if (workflowCacheSize !== undefined) settings.workflowCacheSize = workflowCacheSize;
  const imageKeyFiles = list(env.CIU_IMAGE_KEYS);
  if (imageKeyFiles.length > 0) settings.imageKeyFiles = imageKeyFiles;
  return settings;
}
