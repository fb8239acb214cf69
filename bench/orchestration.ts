/**
 * Orchestration overhead of a campaign: N targets (100 and 1,000; override with BENCH_SIZES=10,100)
 * with instant fake activities on a real dev server, against a bare baseline (one child with one
 * activity per target) on the same server, in the same process. Prints wall time, workflow tasks,
 * events per target, the longest single history, and the ratio to the baseline.
 *   npm run bench:orchestration
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { UpgradeActivities, VerifiedImage } from '../activities/types';
import type { CampaignConfig } from '../src/domain/types';
import { startDevServer } from '../devkit/temporal/dev-server';
import { masterUpgrade } from '../workflows';
import { baselineParent } from './baseline-workflows';

const image: VerifiedImage = {
  imageType: '72xx',
  version: '6.4.0.0',
  build: 81234,
  payloadLength: 1,
  payloadSha256: '00',
  bytesRead: 64,
};

const instant: UpgradeActivities = {
  verifyImage: async () => image,
  inspectController: async (c) => ({
    model: c.model,
    runningVersion: '6.3.1.0',
    runningBuild: 1,
    bootPartition: 0,
    partitions: [],
  }),
  inspectStorage: async () => ({ freeBytes: 1 << 30, sizeBytes: 2 << 30 }),
  downloadImage: async () => ({ bytes: 1 }),
  verifyImageOnController: async () => undefined,
  logOnController: async () => undefined,
  rebootController: async () => undefined,
};

interface Measured {
  wallMs: number;
  runs: number;
  events: number;
  workflowTasks: number;
  longestHistory: number;
}

function ipsFor(n: number): string[] {
  return Array.from(
    { length: n },
    (_, i) => `10.${100 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${(i % 256) + 0}`,
  );
}

function campaign(ips: string[]): CampaignConfig {
  return {
    inventory: ips.map((ip) => ({
      ip,
      model: 'A7210',
      role: 'local',
      ssh: { host: '127.0.0.1', port: 22 },
      credentialsRef: 'ctl',
    })),
    profile: {
      models: {
        A7210: { imageFile: 'ArubaOS_72xx_6.4.0.0_81234', server: { host: '127.0.0.1' }, protocol: 'tftp' },
      },
      autoboot: false,
      maxDownloads: 10,
      retryInterval: '15m',
      quickTries: 3,
      partition: 'non-boot',
    },
    targets: ['all'],
  };
}

async function measure(client: Client, taskQueue: string, run: () => Promise<unknown>): Promise<Measured> {
  const start = Date.now();
  await run();
  const wallMs = Date.now() - start;
  const result: Measured = { wallMs, runs: 0, events: 0, workflowTasks: 0, longestHistory: 0 };
  const all = [];
  for await (const info of client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) all.push(info);
  for (let i = 0; i < all.length; i += 50) {
    const histories = await Promise.all(
      all
        .slice(i, i + 50)
        .map((info) => client.workflow.getHandle(info.workflowId, info.runId).fetchHistory()),
    );
    for (const history of histories) {
      const events = history.events ?? [];
      result.runs++;
      result.events += events.length;
      result.longestHistory = Math.max(result.longestHistory, events.length);
      result.workflowTasks += events.filter((e) => e.workflowTaskCompletedEventAttributes).length;
    }
  }
  return result;
}

function row(label: string, n: number, m: Measured): string {
  return [
    label.padEnd(10),
    `${(m.wallMs / 1000).toFixed(1)} s`.padStart(9),
    String(m.workflowTasks).padStart(8),
    (m.events / n).toFixed(1).padStart(9),
    String(m.longestHistory).padStart(9),
    String(m.runs).padStart(6),
  ].join(' ');
}

async function main(): Promise<void> {
  Runtime.install({
    logger: new DefaultLogger('ERROR', (entry) => {
      if (entry.meta?.sdkComponent !== 'workflow') process.stderr.write(`${entry.message}\n`);
    }),
  });
  const sizes = (process.env.BENCH_SIZES ?? '100,1000').split(',').map(Number);
  const server = await startDevServer({ uiPort: false });
  const connection = await Connection.connect({ address: server.address });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const client = new Client({ connection });
  try {
    process.stdout.write(
      `${'run'.padEnd(10)} ${'wall'.padStart(9)} ${'wf tasks'.padStart(8)} ${'ev/target'.padStart(9)} ${'longest'.padStart(9)} ${'runs'.padStart(6)}\n`,
    );
    for (const n of sizes) {
      const ips = ipsFor(n);
      const ciuQueue = `bench-ciu-${n}`;
      const baseQueue = `bench-base-${n}`;
      const ciuWorker = await Worker.create({
        connection: nativeConnection,
        taskQueue: ciuQueue,
        workflowsPath: require.resolve('../workflows'),
        activities: instant,
      });
      const baseWorker = await Worker.create({
        connection: nativeConnection,
        taskQueue: baseQueue,
        workflowsPath: require.resolve('./baseline-workflows'),
        activities: { touch: async () => undefined },
      });
      const base = await baseWorker.runUntil(
        measure(client, baseQueue, () =>
          client.workflow.execute(baselineParent, {
            taskQueue: baseQueue,
            workflowId: `baseline-${n}`,
            args: [ips],
          }),
        ),
      );
      const ciu = await ciuWorker.runUntil(
        measure(client, ciuQueue, async () => {
          const summary = await client.workflow.execute(masterUpgrade, {
            taskQueue: ciuQueue,
            workflowId: `bench-${n}`,
            args: [campaign(ips)],
          });
          if (summary.counts['downloaded-reboot-required'] !== n)
            throw new Error(`campaign ended with ${JSON.stringify(summary.counts)}`);
        }),
      );
      process.stdout.write(`${row(`base ${n}`, n, base)}\n${row(`ciu ${n}`, n, ciu)}\n`);
      process.stdout.write(
        `ratio ${n}: wall ×${(ciu.wallMs / base.wallMs).toFixed(2)}, workflow tasks ×${(ciu.workflowTasks / base.workflowTasks).toFixed(2)}, events ×${(ciu.events / base.events).toFixed(2)}\n`,
      );
    }
  } finally {
    await nativeConnection.close();
    await connection.close();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
