import type { Command } from 'commander';
import { settingsFromEnv } from '../../settings';
import { resolveTarget } from '../client';
import { CliError } from '../exit-codes';
import { globalOptions, withExamples, type CliContext } from '../context';

/** `ciu worker`: a worker process, with ciu's metrics endpoint beside it when asked. */
export function registerRuntimeCommands(program: Command, ctx: CliContext): void {
  withExamples(
    program
      .command('worker')
      .description('run a ciu worker (workflows + activities on task queue "ciu") until Ctrl-C')
      .option('--credentials-file <file>', 'credential store (default: $CIU_CREDENTIALS_FILE)')
      .option(
        '--known-hosts <file>',
        'known_hosts for SSH endpoints without a pinned key (default: $CIU_KNOWN_HOSTS)',
      )
      .option(
        '--sdk-metrics <host:port>',
        'Temporal runtime Prometheus endpoint (default: $CIU_SDK_METRICS, off)',
      )
      .option('--metrics <host:port>', "ciu's Prometheus endpoint (default: $CIU_METRICS, off)")
      .option(
        '--payload-keys <file>',
        'encrypt payloads with this key file (default: $CIU_PAYLOAD_KEYS, off)',
      )
      .option(
        '--image-keys <files>',
        'comma-separated public keys of the image signers to trust (default: $CIU_IMAGE_KEYS, none)',
      )
      .action(async function (this: Command) {
        const opts = this.opts<{
          credentialsFile?: string;
          knownHosts?: string;
          sdkMetrics?: string;
          metrics?: string;
          payloadKeys?: string;
          messageKeys?: string;
          imageKeys?: string;
        }>();
        // Resolved once: the worker and the metrics client connect with the same settings.
        const temporal = await resolveTarget(globalOptions(this, ctx).temporal);
        const metricsAddress = opts.metrics ?? settingsFromEnv(ctx.env).metricsAddress;
        const { Client, Connection } = await import('@temporalio/client');
        const { createCiuMetrics, downloadMetricsInterceptor, startMetricsServer } =
          await import('../../metrics');
        const { temporalConnectionFailure } = await import('../../temporal/connection');
        const connection = metricsAddress
          ? await Connection.connect(temporal.connectionOptions).catch((err: unknown) => {
              throw new CliError(temporalConnectionFailure(temporal.summary, err));
            })
          : undefined;
        const metrics = connection
          ? createCiuMetrics({ client: new Client({ connection, namespace: temporal.namespace }) })
          : undefined;
        const metricsServer =
          metrics && metricsAddress ? await startMetricsServer(metrics.registry, metricsAddress) : undefined;
        try {
          // Loaded on use: the worker pulls in every activity and the workflow bundler.
          const { runWorker } = await import('../../../workers/main');
          await runWorker({
            temporal,
            ...(opts.credentialsFile ? { credentialsFile: opts.credentialsFile } : {}),
            ...(opts.knownHosts ? { knownHostsFile: opts.knownHosts } : {}),
            ...(opts.sdkMetrics ? { sdkMetricsAddress: opts.sdkMetrics } : {}),
            ...(opts.payloadKeys ? { payloadKeysFile: opts.payloadKeys } : {}),
            ...(opts.messageKeys ? { messageKeysFile: opts.messageKeys } : {}),
            ...(opts.imageKeys ? { imageKeyFiles: opts.imageKeys.split(',').map((f) => f.trim()) } : {}),
            ...(metrics ? { interceptors: { activity: [downloadMetricsInterceptor(metrics)] } } : {}),
          });
        } finally {
          await metricsServer?.close();
          await connection?.close();
        }
      }),
    'ciu worker --address 127.0.0.1:7233 --credentials-file creds.yaml --sdk-metrics 127.0.0.1:9464 --metrics 127.0.0.1:9465',
    'ciu worker --address temporal.example:7233 --tls-ca ca.pem --tls-cert worker.pem --tls-key worker.key',
  );
}
