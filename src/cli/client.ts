import type { Client, Connection } from '@temporalio/client';
import { settingsFromEnv } from '../settings';
import { CliError } from './exit-codes';

/** Where the CLI finds Temporal: `--address` / TEMPORAL_ADDRESS (default 127.0.0.1:7233), `--namespace` / TEMPORAL_NAMESPACE (default 'default'). */
export interface TemporalTarget {
  address: string;
  namespace: string;
}

export function defaultTemporalTarget(env: NodeJS.ProcessEnv = process.env): TemporalTarget {
  return settingsFromEnv(env).temporal;
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
  // Loaded here, not at the top: the gRPC client and its protos are most of a `ciu` call's start-up,
  // and commands that never reach Temporal (--help, staging) should not pay for them.
  const { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } =
    await import('@temporalio/client');
  const retry = defaultGrpcRetryOptions();
  let connection: Connection;
  try {
    connection = await Connection.connect({
      address: target.address,
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
    throw new CliError(
      `cannot reach Temporal at ${target.address}: ${(err as Error).message} (start it with \`npm start\` or \`temporal server start-dev\`, or pass --address)`,
    );
  }
  try {
    return await fn(new Client({ connection, namespace: target.namespace }));
  } finally {
    await connection.close();
  }
}
