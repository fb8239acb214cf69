/** Worker process entry (Dockerfile, `ciu worker`); options default to the environment (src/settings.ts). */
import type { WorkerInterceptors } from '@temporalio/worker';
import { credentialStore } from '../src/credentials/store';
import { createLogger, type Logger } from '../src/logging';
import { settingsFromEnv } from '../src/settings';
import { loadKeyRing } from '../src/temporal/keys';
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
  /** Payload key file; default CIU_PAYLOAD_KEYS, else payloads in clear. */
  payloadKeysFile?: string;
  /** Message key file; default CIU_MESSAGE_KEYS (required). */
  messageKeysFile?: string;
}

/** Connects, runs a ciu worker until SIGINT/SIGTERM, then drains and closes. */
export async function runWorker(options: RunWorkerOptions = {}): Promise<void> {
  const logger = options.logger ?? createLogger('ciu-worker');
  const settings = settingsFromEnv();
  const metricsBindAddress = options.sdkMetricsAddress ?? settings.sdkMetricsAddress;
  installRuntime({ logger, ...(metricsBindAddress ? { metricsBindAddress } : {}) });
  const address = options.address ?? settings.temporal.address;
  const payloadKeysFile = options.payloadKeysFile ?? settings.payloadKeysFile;
  // Read before connecting: a bad key file stops the worker with its name and field.
  const payloadKeys = payloadKeysFile ? loadKeyRing(payloadKeysFile) : undefined;
  const messageKeysFile = options.messageKeysFile ?? settings.messageKeysFile;
  if (!messageKeysFile)
    throw new Error(
      'CIU_MESSAGE_KEYS (or --message-keys) is required: the key file that authenticates messages between workflows, the same on every worker (create one with `ciu keys add FILE`)',
    );
  const messageKeys = loadKeyRing(messageKeysFile);
  const connection = await NativeConnection.connect({ address });
  try {
    const knownHostsFile = options.knownHostsFile ?? settings.knownHostsFile;
    const credentialsFile = options.credentialsFile ?? settings.credentialsFile;
    const worker = await createCiuWorker({
      connection,
      namespace: options.namespace ?? settings.temporal.namespace,
      logger,
      credentials: credentialStore(credentialsFile ? { file: credentialsFile } : {}),
      ...(knownHostsFile ? { knownHostsFile } : {}),
      ...(settings.downloadStallMs !== undefined ? { downloadStallMs: settings.downloadStallMs } : {}),
      ...(settings.shutdownGraceMs !== undefined ? { shutdownGraceMs: settings.shutdownGraceMs } : {}),
      ...(settings.shutdownForceMs !== undefined ? { shutdownForceMs: settings.shutdownForceMs } : {}),
      ...(options.interceptors ? { interceptors: options.interceptors } : {}),
      ...(payloadKeys ? { payloadKeys } : {}),
      messageKeys,
    });
    logger.info(
      {
        address,
        taskQueue: worker.options.taskQueue,
        payloadKeys: payloadKeys ? [...payloadKeys.keys.keys()] : [],
      },
      'worker polling',
    );
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
