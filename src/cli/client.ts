import type { Client, Connection } from '@temporalio/client';
import type { FrontendReader } from '../temporal/frontend-reader';
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

/**
 * A request over gRPC's 4 MB message limit comes back RESOURCE_EXHAUSTED, which the client would
 * retry for minutes; it can never succeed, so the operator gets Temporal's answer at once.
 */
function tooLargeForTemporal(details: string): boolean {
  return /message larger than max/i.test(details);
}

/** Runs `fn` with a connected client and always closes the connection. */
export async function withClient<T>(target: TemporalTarget, fn: (client: Client) => Promise<T>): Promise<T> {
  const temporal = await resolveTarget(target);
  // Loaded here, not at the top: the gRPC client and its protos are most of a `ciu` call's start-up,
  // and commands that never reach Temporal (--help, staging) should not pay for them.
  const { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } =
    await import('@temporalio/client');
  const { temporalConnectionFailure } = await import('../temporal/connection');
  const dataConverter = await payloadConverterFor(target.env);
  const retry = defaultGrpcRetryOptions();
  let connection: Connection;
  try {
    connection = await Connection.connect({
      ...temporal.connectionOptions,
      connectTimeout: 5_000,
      interceptors: [
        makeGrpcRetryInterceptor({
          ...retry,
          retryableDecider: (attempt, status) =>
            !tooLargeForTemporal(status.details) && retry.retryableDecider(attempt, status),
        }),
      ],
    });
  } catch (err) {
    throw new CliError(temporalConnectionFailure(temporal.summary, err));
  }
  try {
    return await fn(new Client({ connection, namespace: temporal.namespace, dataConverter }));
  } finally {
    await connection.close();
  }
}

/**
 * Runs `fn` with a read-only channel to the frontend (src/temporal/frontend-reader.ts) and always
 * closes it: what `show upgrade status` needs, without loading the SDK client (npm run bench:cli).
 * Errors read as withClient's do: unreachable or refused, no such campaign.
 */
export async function withFrontendReader<T>(
  target: TemporalTarget,
  fn: (reader: FrontendReader) => Promise<T>,
): Promise<T> {
  const temporal = await resolveTarget(target);
  const [{ openFrontendReader, FrontendUnreachable, WorkflowNotFound }, { temporalConnectionFailure }] =
    await Promise.all([import('../temporal/frontend-reader'), import('../temporal/connection')]);
  const { payloadCodecs } = await payloadConverterFor(target.env);
  const failure = (err: unknown): unknown => {
    if (err instanceof FrontendUnreachable)
      return new CliError(temporalConnectionFailure(temporal.summary, err));
    if (err instanceof WorkflowNotFound)
      return new CliError(noSuchCampaign(err.workflowId), exitCodes.notFound);
    return err;
  };
  let reader: FrontendReader;
  try {
    reader = await openFrontendReader(temporal, payloadCodecs ?? [], { connectTimeoutMs: 5_000 });
  } catch (err) {
    throw failure(err);
  }
  try {
    return await fn(reader);
  } catch (err) {
    throw failure(err);
  } finally {
    reader.close();
  }
}

/** What the operator reads when the campaign (its master workflow) does not exist. */
export function noSuchCampaign(workflowId: string): string {
  return `no such campaign: ${workflowId} (commit one with \`ciu write memory\`)`;
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
