import type { Client, Connection } from '@temporalio/client';
import type { TemporalConnection, TemporalConnectionFlags } from '../temporal/connection';
import { CliError, exitCodes, UsageError } from './exit-codes';

/**
 * How the CLI reaches Temporal: the connection flags and the environment, resolved with the profile
 * file (src/temporal/connection.ts) only by a command that connects.
 */
export interface TemporalTarget extends TemporalConnectionFlags {
  env: NodeJS.ProcessEnv;
}

/** The resolved settings; a bad one is a usage error (exit 2) that names its flag or variable. */
export async function resolveTarget(target: TemporalTarget): Promise<TemporalConnection> {
  const { resolveTemporalConnection, TemporalConnectionSettingsError } =
    await import('../temporal/connection');
  const { env, ...flags } = target;
  try {
    return resolveTemporalConnection(flags, env);
  } catch (err) {
    if (err instanceof TemporalConnectionSettingsError) throw new CliError(err.message, exitCodes.usage);
    throw err;
  }
}

/** Runs `fn` with a connected client and always closes the connection. */
export async function withClient<T>(target: TemporalTarget, fn: (client: Client) => Promise<T>): Promise<T> {
  const temporal = await resolveTarget(target);
  // Loaded here, not at the top: the gRPC client and its protos are most of a `ciu` call's start-up,
  // and commands that never reach Temporal (--help, staging) should not pay for them.
  const { Client, Connection } = await import('@temporalio/client');
  const { temporalConnectionFailure } = await import('../temporal/connection');
  const dataConverter = await payloadConverterFor(target.env);
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...temporal.connectionOptions, connectTimeout: 5_000 });
  } catch (err) {
    throw new CliError(temporalConnectionFailure(temporal.summary, err));
  }
  try {
    return await fn(new Client({ connection, namespace: temporal.namespace, dataConverter }));
  } finally {
    await connection.close();
  }
}

/** The data converter for `CIU_PAYLOAD_KEYS`: payloads encrypted with its current key, or in clear without it. */
async function payloadConverterFor(env: NodeJS.ProcessEnv) {
  const [{ settingsFromEnv }, { ciuDataConverter }, { loadKeyRing, KeyFileError }] = await Promise.all([
    import('../settings'),
    import('../temporal/data-converter'),
    import('../temporal/keys'),
  ]);
  const file = settingsFromEnv(env).payloadKeysFile;
  try {
    return ciuDataConverter(file ? { payloadKeys: loadKeyRing(file) } : {});
  } catch (err) {
    if (err instanceof KeyFileError) throw new UsageError(err.message);
    throw err;
  }
}
