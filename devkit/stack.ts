import { Client, Connection } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { Logger } from '../src/logging';
import { generateKeyRing, type KeyRing } from '../src/temporal/keys';
import { createCiuMetrics, downloadMetricsInterceptor, type CiuMetrics } from '../src/metrics';
import { createCiuWorker, NativeConnection, type CiuWorkerOptions } from '../workers/worker';
import { startDemoEnvironment, type DemoEnvironment, type DemoOptions } from './demo/environment';
import { startDevServer, type DevServer, type DevServerOptions } from './temporal/dev-server';
import { CompressionCodec } from '../src/temporal/payload-compression';

/** A dev server with the two connections a process needs: one for a client, one for workers. */
export interface LocalTemporal {
  dev: DevServer;
  client: Client;
  workerConnection: NativeConnection;
  /**
   * Closes both connections, then stops the server. `kill` ends it with SIGKILL first, the way a
   * crashed host would (no clean shutdown of its SQLite file).
   */
  stop(options?: { kill?: boolean }): Promise<void>;
}

/** A worker's `run()` in flight. */
export interface RunningWorker {
  worker: Worker;
  /** Until the worker stops; rejects if it fails. */
  running: Promise<void>;
  /** Drains the worker (running activities finish or are cancelled) and waits for it to stop. */
  stop(): Promise<void>;
}

/** Starts `temporal server start-dev` and connects to it; stops the server again if a connection fails. */
export async function startLocalTemporal(options: DevServerOptions = {}): Promise<LocalTemporal> {
  const dev = await startDevServer(options);
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address: dev.address });
    const workerConnection = await NativeConnection.connect({ address: dev.address });
    const opened = connection;
    return {
      dev,
      // Large payloads (a big campaign's result) arrive deflated, as a ciu worker writes them.
      client: new Client({ connection: opened, dataConverter: { payloadCodecs: [new CompressionCodec()] } }),
      workerConnection,
      async stop({ kill = false } = {}) {
        await workerConnection.close();
        await opened.close();
        if (kill) dev.process.kill('SIGKILL');
        await dev.stop();
      },
    };
  } catch (err) {
    await connection?.close();
    await dev.stop();
    throw err;
  }
}

/** Runs a created worker until `stop()`. */
export function runWorker(worker: Worker): RunningWorker {
  const running = worker.run();
  return {
    worker,
    running,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}

/** Options for `startLocalStack`. */
export interface LocalStackOptions {
  /** Dev server settings. Default: free ports, temp SQLite, Web UI on. */
  devServer?: DevServerOptions;
  /** The image server and the simulated fleet. */
  environment: DemoOptions;
  /** The worker's logger (activities log through it). */
  logger: Logger;
  /** Include Node's process metrics in ciu's registry. Default true. */
  processMetrics?: boolean;
  /** Worker settings beyond the connection, credentials and known_hosts the stack provides. */
  worker?: Pick<CiuWorkerOptions, 'taskQueue' | 'workflowBundle'>;
  /** The worker's message keys. Default: a fresh key (one worker in one process needs no file). */
  messageKeys?: KeyRing;
  /** Aborting between steps stops what already started and rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Everything a user runs on one machine, on loopback: dev server, image server, simulated fleet, a ciu worker. */
export interface LocalStack {
  dev: DevServer;
  client: Client;
  env: DemoEnvironment;
  /** ciu's metrics, with the worker's download counters wired in. */
  metrics: CiuMetrics;
  worker: RunningWorker;
  /** Stops the worker, the fleet and image server, then the dev server. */
  stop(): Promise<void>;
}

/**
 * Wires the whole local stack: `ciu start`, the CLI tests and the end-to-end tests use this one
 * function. The Temporal runtime is the caller's (`installRuntime`, once per process).
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const stops: Array<[string, () => Promise<void>]> = [];
  // Every step runs even if one fails, so no daemon or simulator outlives the stack.
  const stop = async () => {
    for (const [component, s] of stops.splice(0).reverse())
      await s().catch((err: unknown) => options.logger.warn({ err, component }, 'shutdown step failed'));
  };
  try {
    const temporal = await startLocalTemporal(options.devServer);
    stops.push(['Temporal dev server', () => temporal.stop()]);
    options.signal?.throwIfAborted();
    const env = await startDemoEnvironment(options.environment);
    stops.push(['image server and simulated controllers', () => env.stop()]);
    options.signal?.throwIfAborted();
    const metrics = createCiuMetrics({
      client: temporal.client,
      defaultMetrics: options.processMetrics ?? true,
    });
    const worker = runWorker(
      await createCiuWorker({
        ...options.worker,
        connection: temporal.workerConnection,
        logger: options.logger,
        credentials: env.credentials,
        knownHostsFile: env.knownHostsFile,
        trustedImageKeys: env.trustedImageKeys,
        interceptors: { activity: [downloadMetricsInterceptor(metrics)] },
        messageKeys: options.messageKeys ?? generateKeyRing(),
      }),
    );
    stops.push(['worker', () => worker.stop()]);
    return { dev: temporal.dev, client: temporal.client, env, metrics, worker, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
