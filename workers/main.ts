/**
 * Worker process entry (Dockerfile, `ciu worker`). Configuration from the environment:
 *   TEMPORAL_ADDRESS      frontend host:port (default 127.0.0.1:7233)
 *   TEMPORAL_NAMESPACE    namespace (default 'default')
 *   CIU_CREDENTIALS_FILE  YAML/JSON credential store (see src/credentials/store.ts)
 *   CIU_KNOWN_HOSTS       known_hosts file for SSH endpoints without a pinned key
 *   CIU_SDK_METRICS       host:port for the SDK's Prometheus endpoint (default off)
 *   CIU_DOWNLOAD_STALL_TIMEOUT  a download with no byte progress this long fails as DownloadStalled (default 60s)
 *   CIU_SHUTDOWN_GRACE    after SIGTERM/SIGINT, time running activities get before they are cancelled (default 10s)
 *   CIU_SHUTDOWN_FORCE    after SIGTERM/SIGINT, time by which the worker exits regardless (default 30s)
 */
import type { WorkerInterceptors } from '@temporalio/worker';
import { credentialStore } from '../src/credentials/store';
import { parseDuration } from '../src/domain/duration';
import { createLogger, type Logger } from '../src/logging';
import { installRuntime } from './runtime';
import { createCiuWorker, NativeConnection } from './worker';

/** Options for running a worker until the process is told to stop. */
export interface RunWorkerOptions {
  address?: string;
  namespace?: string;
  logger?: Logger;
  credentialsFile?: string;
  knownHostsFile?: string;
  sdkMetricsAddress?: string;
  interceptors?: WorkerInterceptors;
}

/** Connects, runs a ciu worker until SIGINT/SIGTERM, then drains and closes. */
export async function runWorker(options: RunWorkerOptions = {}): Promise<void> {
  const logger = options.logger ?? createLogger('ciu-worker');
  const metricsBindAddress = options.sdkMetricsAddress ?? process.env.CIU_SDK_METRICS;
  installRuntime({ logger, ...(metricsBindAddress ? { metricsBindAddress } : {}) });
  const address = options.address ?? process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const connection = await NativeConnection.connect({ address });
  try {
    const knownHostsFile = options.knownHostsFile ?? process.env.CIU_KNOWN_HOSTS;
    const credentialsFile = options.credentialsFile ?? process.env.CIU_CREDENTIALS_FILE;
    const downloadStallMs = envDuration('CIU_DOWNLOAD_STALL_TIMEOUT');
    const shutdownGraceMs = envDuration('CIU_SHUTDOWN_GRACE');
    const shutdownForceMs = envDuration('CIU_SHUTDOWN_FORCE');
    const worker = await createCiuWorker({
      connection,
      namespace: options.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'default',
      logger,
      credentials: credentialStore(credentialsFile ? { file: credentialsFile } : {}),
      ...(knownHostsFile ? { knownHostsFile } : {}),
      ...(downloadStallMs !== undefined ? { downloadStallMs } : {}),
      ...(shutdownGraceMs !== undefined ? { shutdownGraceMs } : {}),
      ...(shutdownForceMs !== undefined ? { shutdownForceMs } : {}),
      ...(options.interceptors ? { interceptors: options.interceptors } : {}),
    });
    logger.info({ address, taskQueue: worker.options.taskQueue }, 'worker polling');
    await worker.run();
  } finally {
    await connection.close();
  }
}

/** A duration setting from the environment ('60s', '2m'), or undefined when unset; bad values name the variable. */
function envDuration(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms < 1000)
    throw new Error(`${name} must be a duration of at least 1s ('60s', '2m'), got "${text}"`);
  return ms;
}

if (require.main === module) {
  runWorker().catch((err: unknown) => {
    process.stderr.write(`ciu worker: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
