/** Worker process entry (Dockerfile, `ciu worker`); options default to the environment (src/settings.ts). */
import { Runtime, type WorkerInterceptors } from '@temporalio/worker';
import { credentialStore } from '../src/credentials/store';
import { readTrustedImageKeys } from '../src/image';
import { createLogger, type Logger } from '../src/logging';
import { settingsFromEnv } from '../src/settings';
import {
  resolveTemporalConnection,
  temporalConnectionFailure,
  type TemporalConnection,
  type TemporalConnectionFlags,
} from '../src/temporal/connection';
import { loadKeyRing } from '../src/temporal/keys';
import { installRuntime } from './runtime';
import { createCiuWorker, NativeConnection } from './worker';

/** Options for running a worker until the process is told to stop. */
export interface RunWorkerOptions extends TemporalConnectionFlags {
  /** Resolved connection settings; default: the flags above over the environment and profile file. */
  temporal?: TemporalConnection;
  logger?: Logger;
  credentialsFile?: string;
  knownHostsFile?: string;
  sdkMetricsAddress?: string;
  /** Public-key files of the image signers to trust. Default: env CIU_IMAGE_KEYS, else none. */
  imageKeyFiles?: string[];
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
  // A key file that cannot be read stops the worker before it connects, rather than refusing every image later.
  const imageKeyFiles = options.imageKeyFiles ?? settings.imageKeyFiles ?? [];
  const trustedImageKeys = await readTrustedImageKeys(imageKeyFiles);
  if (trustedImageKeys.size === 0)
    logger.warn('no trusted image keys (CIU_IMAGE_KEYS): only profiles with allowUnsigned verify images');
  const metricsBindAddress = options.sdkMetricsAddress ?? settings.sdkMetricsAddress;
  installRuntime({ logger, ...(metricsBindAddress ? { metricsBindAddress } : {}) });
  const payloadKeysFile = options.payloadKeysFile ?? settings.payloadKeysFile;
  // Read before connecting: a bad key file stops the worker with its name and field.
  const payloadKeys = payloadKeysFile ? loadKeyRing(payloadKeysFile) : undefined;
  const messageKeysFile = options.messageKeysFile ?? settings.messageKeysFile;
  if (!messageKeysFile)
    throw new Error(
      'CIU_MESSAGE_KEYS (or --message-keys) is required: the key file that authenticates messages between workflows, the same on every worker (create one with `ciu keys add FILE`)',
    );
  const messageKeys = loadKeyRing(messageKeysFile);
  const temporal = options.temporal ?? resolveTemporalConnection(options);
  const connection = await NativeConnection.connect(temporal.connectionOptions).catch((err: unknown) => {
    throw new Error(temporalConnectionFailure(temporal.summary, err));
  });
  // The signal that stops the worker also ends its local activities, which it would otherwise wait for.
  const stopping = new AbortController();
  const stop = () => stopping.abort();
  Runtime.instance().registerShutdownSignalCallback(stop);
  try {
    const knownHostsFile = options.knownHostsFile ?? settings.knownHostsFile;
    const credentialsFile = options.credentialsFile ?? settings.credentialsFile;
    const worker = await createCiuWorker({
      connection,
      namespace: temporal.namespace,
      logger,
      credentials: credentialStore(credentialsFile ? { file: credentialsFile } : {}),
      trustedImageKeys,
      ...(knownHostsFile ? { knownHostsFile } : {}),
      ...(settings.configStore !== undefined ? { configStore: settings.configStore } : {}),
      ...(settings.downloadStallMs !== undefined ? { downloadStallMs: settings.downloadStallMs } : {}),
      ...(settings.shutdownGraceMs !== undefined ? { shutdownGraceMs: settings.shutdownGraceMs } : {}),
      ...(settings.shutdownForceMs !== undefined ? { shutdownForceMs: settings.shutdownForceMs } : {}),
      ...(settings.workflowCacheSize !== undefined ? { maxCachedWorkflows: settings.workflowCacheSize } : {}),
      ...(options.interceptors ? { interceptors: options.interceptors } : {}),
      ...(payloadKeys ? { payloadKeys } : {}),
      messageKeys,
      stopping: stopping.signal,
    });
    logger.info(
      {
        ...temporal.summary,
        taskQueue: worker.options.taskQueue,
        payloadKeys: payloadKeys ? [...payloadKeys.keys.keys()] : [],
      },
      'worker polling',
    );
    await worker.run();
  } finally {
    Runtime.instance().deregisterShutdownSignalCallback(stop);
    await connection.close();
  }
}

if (require.main === module) {
  runWorker().catch((err: unknown) => {
    process.stderr.write(`ciu worker: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
