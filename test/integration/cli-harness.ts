import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { startDemoEnvironment, type DemoEnvironment, type DemoOptions } from '../../devkit/demo/environment';
import { createLogger } from '../../src/logging';
import type { DevServer } from '../../devkit/temporal/dev-server';
import { createCiuMetrics, downloadMetricsInterceptor, type CiuMetrics } from '../../src/metrics';
import { freePort } from '../../devkit/temporal/free-port';
import { installRuntime } from '../../workers/runtime';
import { createCiuWorker, NativeConnection } from '../../workers/worker';
import { startTestDevServer } from '../fixtures/temporal';

/** Everything a user would run, on loopback: dev server, vsftpd with images, simulated fleet, a real worker. */
export interface CiuStack {
  dev: DevServer;
  env: DemoEnvironment;
  client: Client;
  /** ciu's metrics, with the worker's download counters wired in. */
  metrics: CiuMetrics;
  dir: string;
  stop(): Promise<void>;
}

let runtimeInstalled = false;

/** Starts the stack for one test file; `demo` picks the fleet (give each file its own 127.x subnets). */
export async function startCiuStack(demo: Omit<DemoOptions, 'stateDir' | 'sshPort'>): Promise<CiuStack> {
  const dir = mkdtempSync(join(tmpdir(), 'ciu-cli-it-'));
  const stops: Array<() => Promise<void>> = [async () => rmSync(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const s of stops.reverse()) await s();
  };
  try {
    const dev = await startTestDevServer();
    stops.push(() => dev.stop());
    const env = await startDemoEnvironment({
      quickTryBackoff: '200ms',
      rebootDelayMs: 300,
      payloadBytes: 256 * 1024,
      ...demo,
      stateDir: join(dir, 'demo'),
      sshPort: await freePort(),
    });
    stops.push(() => env.stop());
    const logger = createLogger('cli-test', { level: process.env.CIU_LOG_LEVEL ?? 'silent' });
    if (!runtimeInstalled) installRuntime({ logger });
    runtimeInstalled = true;
    const connection = await Connection.connect({ address: dev.address });
    stops.push(() => connection.close());
    const client = new Client({ connection });
    const metrics = createCiuMetrics({ client, defaultMetrics: false });
    const workerConnection = await NativeConnection.connect({ address: dev.address });
    stops.push(() => workerConnection.close());
    const worker: Worker = await createCiuWorker({
      connection: workerConnection,
      logger,
      credentials: env.credentials,
      knownHostsFile: env.knownHostsFile,
      interceptors: { activity: [downloadMetricsInterceptor(metrics)] },
    });
    const running = worker.run();
    stops.push(async () => {
      worker.shutdown();
      await running;
    });
    return { dev, env, client, metrics, dir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Polls `probe` until it returns something, or fails after `timeoutMs` with the last value seen. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
