import type { Client, Connection } from '@temporalio/client';
import { settingsFromEnv } from '../settings';
import { CliError, UsageError } from './exit-codes';

/** Where the CLI finds Temporal: `--address` / TEMPORAL_ADDRESS (default 127.0.0.1:7233), `--namespace` / TEMPORAL_NAMESPACE (default 'default'). */
export interface TemporalTarget {
  address: string;
  namespace: string;
  /** `CIU_PAYLOAD_KEYS`: the key file payloads are encrypted with. Default: payloads in clear. */
  payloadKeysFile?: string;
}

export function defaultTemporalTarget(env: NodeJS.ProcessEnv = process.env): TemporalTarget {
  const settings = settingsFromEnv(env);
  return {
    ...settings.temporal,
    ...(settings.payloadKeysFile ? { payloadKeysFile: settings.payloadKeysFile } : {}),
  };
}

/** Runs `fn` with a connected client and always closes the connection. */
export async function withClient<T>(target: TemporalTarget, fn: (client: Client) => Promise<T>): Promise<T> {
  // Loaded here, not at the top: the gRPC client and its protos are most of a `ciu` call's start-up,
  // and commands that never reach Temporal (--help, staging) should not pay for them.
  const { Client, Connection } = await import('@temporalio/client');
  const { ciuDataConverter } = await import('../temporal/data-converter');
  const { loadKeyRing, KeyFileError } = await import('../temporal/keys');
  let payloadKeys;
  try {
    payloadKeys = target.payloadKeysFile ? loadKeyRing(target.payloadKeysFile) : undefined;
  } catch (err) {
    if (err instanceof KeyFileError) throw new UsageError(err.message);
    throw err;
  }
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: target.address, connectTimeout: 5_000 });
  } catch (err) {
    throw new CliError(
      `cannot reach Temporal at ${target.address}: ${(err as Error).message} (start it with \`npm start\` or \`temporal server start-dev\`, or pass --address)`,
    );
  }
  try {
    return await fn(
      new Client({
        connection,
        namespace: target.namespace,
        dataConverter: ciuDataConverter({ ...(payloadKeys ? { payloadKeys } : {}) }),
      }),
    );
  } finally {
    await connection.close();
  }
}
