/** Worker process entry (Dockerfile, `ciu worker`); options default to the environment (src/settings.ts). */
import type { WorkerInterceptors } from '@temporalio/worker';
import { credentialStore } from '../src/credentials/store';
import { readTrustedImageKeys } from '../src/image';
import { createLogger, type Logger } from '../src/logging';
import { settingsFromEnv } from '../src/settings';
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
  /** Public-key files of the image signers to trust. Default: env CIU_IMAGE_KEYS, else none. */
  imageKeyFiles?: string[];
  interceptors?: WorkerInterceptors;
}

/** Connects, runs a ciu worker until SIGINT/SIGTERM, then drains and closes. */
export async function runWorker(options: RunWorkerOptions = {}): Promise<void> {
  const logger = options.logger ?? createLogger('ciu-worker');
  const settings = settingsFromEnv();
  // A key file that cannot be read stops the worker before it connects, rather than refusing every image later.
  const imageKeyFiles = options.imageKeyFiles ?? settings.imageKeyFiles ?? [];
  const trustedImageKeys = await readTrustedImageKeys(imageKeyFiles);
  if (trustedImageKeys.size === 0)
    logger.warn('no trusted image keys (CIU_IMAGE_KEYS): only profiles with allowUnsigned verify images');
  const metricsBindAddress = options.sdkMetricsAddress ?? settings.sdkMetricsAddress;
  installRuntime({ logger, ...(metricsBindAddress ? { metricsBindAddress } : {}) });
  const address = options.address ?? settings.temporal.address;
  const connection = await NativeConnection.connect({ address });
  try {
    const knownHostsFile = options.knownHostsFile ?? settings.knownHostsFile;
    const credentialsFile = options.credentialsFile ?? settings.credentialsFile;
    const worker = await createCiuWorker({
      connection,
      namespace: options.namespace ?? settings.temporal.namespace,
      logger,
      credentials: credentialStore(credentialsFile ? { file: credentialsFile } : {}),
      trustedImageKeys,
      ...(knownHostsFile ? { knownHostsFile } : {}),
      ...(settings.downloadStallMs !== undefined ? { downloadStallMs: settings.downloadStallMs } : {}),
      ...(settings.shutdownGraceMs !== undefined ? { shutdownGraceMs: settings.shutdownGraceMs } : {}),
      ...(settings.shutdownForceMs !== undefined ? { shutdownForceMs: settings.shutdownForceMs } : {}),
      ...(options.interceptors ? { interceptors: options.interceptors } : {}),
    });
    logger.info({ address, taskQueue: worker.options.taskQueue }, 'worker polling');
    await worker.run();
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  runWorker().catch((err: unknown) => {
    process.stderr.write(`ciu worker: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
