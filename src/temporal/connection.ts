/**
 * How ciu reaches Temporal — address, namespace, TLS, mTLS, API key — for the worker and every `ciu`
 * command alike. Precedence: flag, then Temporal's own environment variables, then a profile of its
 * TOML file (TEMPORAL_CONFIG_FILE, else ~/.config/temporalio/temporal.toml), then the defaults;
 * @temporalio/envconfig merges environment and file, as the `temporal` CLI does. Only connection
 * options come out: the client and worker add their own (data converter, interceptors) beside them.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { TLSConfig } from '@temporalio/client';
import {
  loadClientConfig,
  loadClientConfigProfile,
  toClientOptions,
  type ClientConfigProfile,
  type ConfigDataSource,
} from '@temporalio/envconfig';
import { temporalConnectionEnv } from '../settings';

/** Connection flags of `ciu` and `ciu worker`; each wins over the environment and the profile file. */
export interface TemporalConnectionFlags {
  /** --address host:port. Default 127.0.0.1:7233. */
  address?: string;
  /** --namespace. Default 'default'. */
  namespace?: string;
  /** --profile: a profile of the TOML file. Default TEMPORAL_PROFILE, else 'default'. */
  profile?: string;
  /** --tls: TLS with the system CAs even without a CA, certificate or API key. */
  tls?: boolean;
  /** --tls-ca: PEM file of the CA that signs the frontend's certificate. */
  tlsCa?: string;
  /** --tls-server-name: the name the frontend's certificate must carry. */
  tlsServerName?: string;
  /** --tls-cert / --tls-key: PEM client certificate and its key, for mTLS. */
  tlsCert?: string;
  tlsKey?: string;
  /** --api-key: sent as `authorization: Bearer <key>`; turns TLS on unless TLS is disabled. */
  apiKey?: string;
}

/** What `Connection.connect` (client) and `NativeConnection.connect` (worker) both take. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
}

/** Secret-free description for logs and messages. */
export interface TemporalConnectionSummary {
  address: string;
  namespace: string;
  /** off; tls (the server is verified); mtls (and ciu shows a client certificate). */
  tls: 'off' | 'tls' | 'mtls';
  apiKey: boolean;
  /** The profile used, when a profile file was read. */
  profile?: string;
}

/** Resolved connection settings: options for the connection, the namespace for client and worker. */
export interface TemporalConnection {
  namespace: string;
  connectionOptions: TemporalConnectionOptions;
  summary: TemporalConnectionSummary;
}

/** A setting ciu cannot use; the message names the flag, variable or file key, never a secret. */
export class TemporalConnectionSettingsError extends Error {
  override readonly name = 'TemporalConnectionSettingsError';
}

const defaultAddress = '127.0.0.1:7233';

type TlsFile = 'serverCACert' | 'clientCert' | 'clientKey';

/** Where each file setting can come from, for messages that name the one the operator set. */
const fileSources: Record<TlsFile, { flag: string; env: string; toml: string }> = {
  serverCACert: { flag: '--tls-ca', env: 'TEMPORAL_TLS_SERVER_CA_CERT', toml: 'tls.server_ca_cert' },
  clientCert: { flag: '--tls-cert', env: 'TEMPORAL_TLS_CLIENT_CERT', toml: 'tls.client_cert' },
  clientKey: { flag: '--tls-key', env: 'TEMPORAL_TLS_CLIENT_KEY', toml: 'tls.client_key' },
};

const fail = (message: string): never => {
  throw new TemporalConnectionSettingsError(message);
};

/** The profile file's path and text, or none; `TEMPORAL_CONFIG_FILE` must exist, the default may not. */
function readProfileFile(env: Record<string, string>): { path: string; text: string } | undefined {
  const explicit = env.TEMPORAL_CONFIG_FILE;
  // As envconfig and the `temporal` CLI locate it: a relative XDG_CONFIG_HOME is ignored.
  const xdg = env.XDG_CONFIG_HOME;
  const configHome =
    xdg !== undefined
      ? isAbsolute(xdg)
        ? xdg
        : undefined
      : env.HOME
        ? join(env.HOME, '.config')
        : undefined;
  const path = explicit ?? (configHome ? join(configHome, 'temporalio', 'temporal.toml') : undefined);
  if (path === undefined) return undefined;
  try {
    return { path, text: readFileSync(path, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) return undefined;
    return fail(
      `${explicit ? 'TEMPORAL_CONFIG_FILE' : 'the Temporal profile file'} ${path}: ${code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? 'error'})`}`,
    );
  }
}

/** Environment and profile file merged by envconfig (environment wins), before the flags. */
function loadProfile(
  flags: TemporalConnectionFlags,
  env: Record<string, string>,
): { profile: ClientConfigProfile; name?: string; file?: string } {
  const file = readProfileFile(env);
  const name = flags.profile ?? env.TEMPORAL_PROFILE;
  const nameOrigin = flags.profile ? `--profile ${flags.profile}` : `TEMPORAL_PROFILE=${name}`;
  if (!file) {
    if (name !== undefined)
      fail(
        `${nameOrigin}: no profile file (set TEMPORAL_CONFIG_FILE or write ~/.config/temporalio/temporal.toml)`,
      );
    return { profile: loadClientConfigProfile({ disableFile: true, overrideEnvVars: env }) };
  }
  const configSource = { data: file.text };
  let names: string[];
  try {
    names = Object.keys(loadClientConfig({ configSource, overrideEnvVars: env }).profiles);
  } catch (err) {
    // Only the line of a syntax error: the parser's message quotes the file, which may hold secrets.
    const line = (err as { line?: number }).line;
    if (line !== undefined) return fail(`${file.path} is not valid TOML (line ${line})`);
    if (err instanceof TypeError) return fail(`${file.path} has no [profile.<name>] table`);
    return fail(`${file.path}: ${(err as Error).message}`);
  }
  if (name !== undefined && !names.includes(name))
    fail(`${nameOrigin}: ${file.path} has no such profile (it has: ${names.join(', ') || 'none'})`);
  try {
    const profile = loadClientConfigProfile({
      configSource,
      ...(name !== undefined ? { profile: name } : {}),
      overrideEnvVars: env,
    });
    const used = name ?? 'default';
    return { profile, file: file.path, ...(names.includes(used) ? { name: used } : {}) };
  } catch (err) {
    // e.g. both tls.client_cert_path and tls.client_cert_data: envconfig names the keys only.
    return fail(`${file.path}: ${(err as Error).message}`);
  }
}

function origin(
  which: TlsFile,
  flags: TemporalConnectionFlags,
  env: Record<string, string>,
  file: string | undefined,
): string {
  const source = fileSources[which];
  const flag = { serverCACert: flags.tlsCa, clientCert: flags.tlsCert, clientKey: flags.tlsKey }[which];
  if (flag !== undefined) return source.flag;
  for (const suffix of ['_PATH', '_DATA'])
    if (env[`${source.env}${suffix}`] !== undefined) return `${source.env}${suffix}`;
  return `${source.toml}_path/_data in ${file ?? 'the profile file'}`;
}

function readSource(source: ConfigDataSource, named: string): Buffer {
  if ('data' in source) return Buffer.from(source.data);
  try {
    return readFileSync(source.path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail(
      `${named} ${source.path}: ${code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? 'error'})`}`,
    );
  }
}

function certificate(pem: Buffer, named: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    return fail(`${named} is not a PEM certificate`);
  }
}

function privateKey(pem: Buffer, named: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    // Never the parser's message or the text: it is the private key.
    return fail(`${named} is not an unencrypted PEM private key`);
  }
}

/** The flags laid over the merged profile; a TLS flag turns TLS on even where TEMPORAL_TLS=false. */
function withFlags(profile: ClientConfigProfile, flags: TemporalConnectionFlags): ClientConfigProfile {
  const fromFlags: ClientConfigProfile['tls'] = {
    ...(flags.tlsCa !== undefined ? { serverCACert: { path: flags.tlsCa } } : {}),
    ...(flags.tlsCert !== undefined ? { clientCert: { path: flags.tlsCert } } : {}),
    ...(flags.tlsKey !== undefined ? { clientKey: { path: flags.tlsKey } } : {}),
    ...(flags.tlsServerName !== undefined ? { serverName: flags.tlsServerName } : {}),
  };
  const tlsFlag = flags.tls === true || Object.keys(fromFlags).length > 0;
  // envconfig's rule, kept: any TLS setting (or an API key) means TLS unless it is disabled.
  const tls = tlsFlag ? { ...profile.tls, ...fromFlags, disabled: false } : profile.tls;
  return {
    ...profile,
    address: flags.address ?? profile.address ?? defaultAddress,
    namespace: flags.namespace ?? profile.namespace ?? 'default',
    ...(flags.apiKey !== undefined ? { apiKey: flags.apiKey } : {}),
    ...(tls ? { tls } : {}),
  };
}

/**
 * Resolves the connection settings from flags, `env` (Temporal's variables, see src/settings.ts) and
 * the profile file; reads and checks every certificate and key it names. Throws
 * TemporalConnectionSettingsError naming the flag, variable or file key that is wrong.
 */
export function resolveTemporalConnection(
  flags: TemporalConnectionFlags = {},
  processEnv: NodeJS.ProcessEnv = process.env,
): TemporalConnection {
  const env = temporalConnectionEnv(processEnv);
  if (env.TEMPORAL_TLS !== undefined && !['1', 'true', '0', 'false'].includes(env.TEMPORAL_TLS))
    fail(`TEMPORAL_TLS must be 1, true, 0 or false, got "${env.TEMPORAL_TLS}"`);
  const loaded = loadProfile(flags, env);
  const profile = withFlags(loaded.profile, flags);
  const address = profile.address as string;
  const namespace = profile.namespace as string;
  if (address === '' || /\s|\//.test(address))
    fail(
      `${flags.address !== undefined ? '--address' : 'TEMPORAL_ADDRESS'} must be host:port, got "${address}"`,
    );
  if (profile.apiKey !== undefined && !/^[\x21-\x7e]+$/.test(profile.apiKey))
    fail(
      `${flags.apiKey !== undefined ? '--api-key' : env.TEMPORAL_API_KEY !== undefined ? 'TEMPORAL_API_KEY' : `api_key in ${loaded.file}`} must be printable ASCII without spaces or line breaks`,
    );

  const tls = profile.tls;
  const named = (which: TlsFile) => origin(which, flags, env, loaded.file);
  if (tls && tls.disabled !== true) {
    if (tls.clientKey && !tls.clientCert)
      fail(
        `${named('clientKey')} is set but no client certificate: set --tls-cert or TEMPORAL_TLS_CLIENT_CERT_PATH too`,
      );
    if (tls.clientCert && !tls.clientKey)
      fail(
        `${named('clientCert')} is set but no client key: set --tls-key or TEMPORAL_TLS_CLIENT_KEY_PATH too`,
      );
    const files: Partial<Record<TlsFile, Buffer>> = {};
    for (const which of ['serverCACert', 'clientCert', 'clientKey'] as const) {
      const source = tls[which];
      if (source) files[which] = readSource(source, named(which));
    }
    if (files.serverCACert) certificate(files.serverCACert, named('serverCACert'));
    if (files.clientCert && files.clientKey) {
      const cert = certificate(files.clientCert, named('clientCert'));
      const key = privateKey(files.clientKey, named('clientKey'));
      if (!cert.checkPrivateKey(key))
        fail(`${named('clientKey')} is not the key of the client certificate ${named('clientCert')}`);
    }
    // Buffers, read once: grpc-js (the CLI's client) takes nothing else.
    for (const [which, data] of Object.entries(files)) tls[which as TlsFile] = { data };
  }

  const { connectionOptions } = toClientOptions(profile);
  const options: TemporalConnectionOptions = { address };
  if (connectionOptions.tls !== undefined && connectionOptions.tls !== null)
    options.tls = connectionOptions.tls;
  if (connectionOptions.apiKey !== undefined) options.apiKey = connectionOptions.apiKey as string;
  if (profile.grpcMeta !== undefined) options.metadata = profile.grpcMeta;
  const tlsOn = options.tls !== undefined && options.tls !== false;
  return {
    namespace,
    connectionOptions: options,
    summary: {
      address,
      namespace,
      tls: !tlsOn ? 'off' : typeof options.tls === 'object' && options.tls.clientCertPair ? 'mtls' : 'tls',
      apiKey: options.apiKey !== undefined,
      ...(loaded.name !== undefined ? { profile: loaded.name } : {}),
    },
  };
}

/** `namespace default, mTLS, API key, profile prod`: how ciu connects, without the address. */
function connectionTraits(summary: TemporalConnectionSummary): string {
  const parts = [`namespace ${summary.namespace}`];
  if (summary.tls !== 'off') parts.push(summary.tls === 'mtls' ? 'mTLS' : 'TLS');
  if (summary.apiKey) parts.push('API key');
  if (summary.profile) parts.push(`profile ${summary.profile}`);
  return parts.join(', ');
}

/** gRPC UNAUTHENTICATED / PERMISSION_DENIED, as the CLI's client (grpc-js) and the worker (core) report them. */
function refusal(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: unknown; details?: unknown } }).cause;
  if (cause && (cause.code === 16 || cause.code === 7) && typeof cause.details === 'string')
    return `${cause.details} (${cause.code === 16 ? 'UNAUTHENTICATED' : 'PERMISSION_DENIED'})`;
  const text = err instanceof Error ? err.message : String(err);
  const core =
    /code: '(The request does not have valid authentication credentials|The caller does not have permission[^']*)', message: "([^"]*)"/.exec(
      text,
    );
  if (core)
    return `${core[2]} (${core[1]?.startsWith('The request') ? 'UNAUTHENTICATED' : 'PERMISSION_DENIED'})`;
  return undefined;
}

/**
 * What the operator reads when connecting failed: a refusal (no or wrong client certificate or API
 * key) says so and names the settings to check; anything else is "cannot reach" with the cause.
 */
export function temporalConnectionFailure(summary: TemporalConnectionSummary, err: unknown): string {
  const how = connectionTraits(summary);
  const refused = refusal(err);
  if (refused)
    return `Temporal at ${summary.address} refused the connection: ${refused} (${how}; check the client certificate --tls-cert/--tls-key or TEMPORAL_TLS_CLIENT_CERT_PATH/_KEY_PATH, and the API key --api-key or TEMPORAL_API_KEY)`;
  const cause = (err as { cause?: unknown }).cause;
  const reason = [err, cause]
    .filter((e): e is Error => e instanceof Error)
    .map((e) => e.message)
    .join(': ');
  const hint =
    summary.tls === 'off'
      ? 'start it with `npm start` or `temporal server start-dev`, or pass --address'
      : 'a failed TLS handshake looks like this too: check --address, --tls-ca and --tls-server-name';
  return `cannot reach Temporal at ${summary.address}: ${reason || String(err)} (${how}; ${hint})`;
}
