import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { DownloadImageInput, DownloadImageResult } from '../activities/types';
import { downloadActivityTypes } from './domain/download-activities';
import { controllerStates } from './domain/status';

/**
 * Prometheus metrics. Two endpoints, both on loopback by default:
 *   127.0.0.1:9464/metrics  the Temporal runtime's own metrics (workers: CIU_SDK_METRICS, see workers/runtime.ts)
 *   127.0.0.1:9465/metrics  ciu's counters below (CIU_METRICS)
 */
export const defaultSdkMetricsAddress = '127.0.0.1:9464';
export const defaultCiuMetricsAddress = '127.0.0.1:9465';

/** ciu's own metrics, in one registry. */
export interface CiuMetrics {
  registry: Registry;
  downloadsStarted: Counter<'model'>;
  downloadsFailed: Counter<'model' | 'type'>;
  downloadsSucceeded: Counter<'model'>;
  downloadBytes: Counter<'model'>;
  /** Controllers per state (child workflows' CiuState), refreshed from Temporal visibility on scrape. */
  controllers: Gauge<'state'>;
}

/** Creates the registry; `client`, when given, lets the controllers-per-state gauge count child workflows. */
export function createCiuMetrics(options: { client?: Client; defaultMetrics?: boolean } = {}): CiuMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'ciu_process_' });
  const client = options.client;
  return {
    registry,
    downloadsStarted: new Counter({
      name: 'ciu_downloads_started_total',
      help: 'Image downloads the controllers were told to start',
      labelNames: ['model'],
      registers: [registry],
    }),
    downloadsFailed: new Counter({
      name: 'ciu_downloads_failed_total',
      help: 'Image downloads that failed, by failure type',
      labelNames: ['model', 'type'],
      registers: [registry],
    }),
    downloadsSucceeded: new Counter({
      name: 'ciu_downloads_succeeded_total',
      help: 'Image downloads that completed',
      labelNames: ['model'],
      registers: [registry],
    }),
    downloadBytes: new Counter({
      name: 'ciu_download_bytes_total',
      help: 'Image bytes the controllers received in completed downloads',
      labelNames: ['model'],
      registers: [registry],
    }),
    controllers: new Gauge({
      name: 'ciu_controllers',
      help: 'Controllers per upgrade state (latest run of each controllerUpgrade workflow)',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        if (!client) return;
        const counts = await countControllersByState(client);
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    }),
  };
}

/** Child workflows per CiuState, skipping runs that continued as new (their successor counts). */
export async function countControllersByState(client: Client): Promise<Record<string, number>> {
  const entries = await Promise.all(
    controllerStates.map(async (state) => {
      const query = `WorkflowType = 'controllerUpgrade' AND CiuState = '${state}' AND ExecutionStatus != 'ContinuedAsNew'`;
      const { count } = await client.workflow.count(query);
      return [state, count] as const;
    }),
  );
  return Object.fromEntries(entries);
}

function failureType(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'type' in err && typeof err.type === 'string')
    return err.type;
  return err instanceof Error ? err.name : 'unknown';
}

/**
 * An activity interceptor that counts download calls (downloadActivityTypes: started, failed by type
 * — a failed check of the copy included —, succeeded, bytes),
 * so the counters stay out of the activity code. Register as `interceptors: { activity: [factory] }`.
 */
export function downloadMetricsInterceptor(metrics: CiuMetrics): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        if (!downloadActivityTypes.includes(ctx.info.activityType)) return next(input);
        const [request] = input.args as [DownloadImageInput];
        const model = request?.controller?.model ?? 'unknown';
        metrics.downloadsStarted.inc({ model });
        try {
          const result = (await next(input)) as DownloadImageResult;
          metrics.downloadsSucceeded.inc({ model });
          metrics.downloadBytes.inc({ model }, result.bytes);
          return result;
        } catch (err) {
          metrics.downloadsFailed.inc({ model, type: failureType(err) });
          throw err;
        }
      },
    },
  });
}

/** A running /metrics endpoint. */
export interface MetricsServer {
  /** host:port it listens on. */
  readonly address: string;
  close(): Promise<void>;
}

/** Serves `registry` at http://<address>/metrics. `address` defaults to 127.0.0.1:9465; port 0 picks one. */
export function startMetricsServer(
  registry: Registry,
  address = defaultCiuMetricsAddress,
): Promise<MetricsServer> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon);
  const port = Number(address.slice(colon + 1));
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end('not found: try /metrics\n');
      return;
    }
    registry
      .metrics()
      .then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text))
      .catch((err: unknown) => res.writeHead(500).end(`${String(err)}\n`));
  });
  return new Promise((resolveServer, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const bound = server.address() as AddressInfo;
      resolveServer({
        address: `${host}:${bound.port}`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}
