/**
 * Orchestration overhead of a campaign: N targets (1,000 and 10,000; override with
 * BENCH_SIZES=100,1000) with instant fake activities on a real dev server, against a bare baseline
 * (one child with one activity per target) on the same server, in the same run. Each side has a
 * worker process of its own (same workflow cache size), so its peak RSS is its own. Prints wall
 * time, workflow tasks, events per target, the longest single history, the largest payload (history
 * and status answer), the worker's peak RSS, and the ratios to the baseline.
 *
 * One parent holds at most 2,000 pending children, so above 1,000 targets the baseline shards itself
 * into parents of 500 (20 at 10,000). ciu runs one campaign up to maxCampaignTargets (10,000,
 * src/domain/campaign-limits.ts; its master starts at most 1,500 children per run and continues as
 * new); only above that is the fleet split into campaigns the way an operator would (by address
 * range), each with its share of max-downloads 10.
 * BENCH_SIDES=ciu (or base) runs one side only, for a size whose two sides do not fit one sitting;
 * its row then stands without a ratio; ciu,base runs both, ciu first. BENCH_RESTART_AFTER=<seconds> stops ciu's worker once that
 * long into a run and starts a new one: its empty cache makes every running workflow, the master
 * too, replay its history (the "longest task" column shows what that cost).
 *   npm run bench:orchestration
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import * as proto from '@temporalio/proto';
import type { temporal } from '@temporalio/proto';
import { maxCampaignTargets } from '../src/domain/campaign-limits';
import type { CampaignConfig } from '../src/domain/types';
import { startDevServer } from '../devkit/temporal/dev-server';
import { addKeyToFile } from '../src/temporal/keys';
import { CompressionCodec } from '../src/temporal/payload-compression';
import { workflowBundleOptions } from '../workers/bundle';
import type { masterUpgrade } from '../workflows';
import type { baselineParent } from './baseline-workflows';

const maxDownloads = 10;
/** Children per baseline parent above 1,000 targets (one parent holds at most 2,000 pending children). */
const baselineShard = 500;

interface Measured {
  wallMs: number;
  runs: number;
  events: number;
  workflowTasks: number;
  longestHistory: number;
  largestPayload: number;
  /** Bytes of the largest single history (Temporal warns at 10 MB, refuses at 50 MB). */
  largestHistoryBytes: number;
  /** The longest workflow task, from its start to its completion as the history records them. */
  longestTaskMs: number;
  peakRss: number;
}

/** The run's files: one message key file for every ciu worker (a restarted one still hears its campaign), the bundles. */
const benchDir = mkdtempSync(join(tmpdir(), 'ciu-bench-'));
const messageKeysFile = join(benchDir, 'message-keys.yaml');
addKeyToFile(messageKeysFile, { id: 'bench' });

function ipsFor(n: number): string[] {
  return Array.from(
    { length: n },
    (_, i) => `10.${100 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`,
  );
}

function slices<T>(items: T[], parts: number): T[][] {
  const size = Math.ceil(items.length / parts);
  return Array.from({ length: parts }, (_, i) => items.slice(i * size, (i + 1) * size));
}

function campaign(ips: string[], downloads: number): CampaignConfig {
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
      maxDownloads: downloads,
      retryInterval: '15m',
      quickTries: 3,
      partition: 'non-boot',
    },
    targets: ['all'],
  };
}

/** Each side's workflows, bundled once before any worker starts: ciu's as its build bundles them. */
async function bundleFor(kind: 'ciu' | 'baseline'): Promise<string> {
  const file = join(benchDir, `${kind}-workflows.js`);
  const logger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  const { code } = await bundleWorkflowCode(
    kind === 'ciu'
      ? { ...workflowBundleOptions, logger }
      : { workflowsPath: require.resolve('./baseline-workflows'), logger },
  );
  writeFileSync(file, code);
  return file;
}
const bundles = new Map<string, Promise<string>>();

/** A bench worker process (bench/bench-worker.ts), polling once it said "ready". */
async function startWorker(
  kind: 'ciu' | 'baseline',
  address: string,
  taskQueue: string,
): Promise<{ stop(): Promise<number> }> {
  if (!bundles.has(kind)) bundles.set(kind, bundleFor(kind));
  const codePath = await bundles.get(kind)!;
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(__dirname, 'bench-worker.ts'), kind, address, taskQueue, codePath],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CIU_MESSAGE_KEYS: messageKeysFile } },
  );
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const poll = setInterval(() => {
      if (out.includes('ready\n')) {
        clearInterval(poll);
        resolve();
      }
    }, 100);
    child.once('exit', (code) => {
      clearInterval(poll);
      reject(new Error(`${kind} worker exited with ${code}`));
    });
  });
  return {
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      return Number(out.match(/peak-rss (\d+)/)?.[1] ?? 0);
    },
  };
}

/** Bytes of the largest Payloads message in an event (an input, a result, a signal's or a continue-as-new's). */
function largestPayloads(value: unknown): number {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return 0;
  let largest = 0;
  const payloads = (value as { payloads?: temporal.api.common.v1.IPayload[] }).payloads;
  if (Array.isArray(payloads))
    largest = payloads.reduce((sum, p) => sum + (p.data?.length ?? 0) + (p.metadata ? 32 : 0), 0);
  for (const child of Object.values(value)) largest = Math.max(largest, largestPayloads(child));
  return largest;
}

type BenchWorker = { stop(): Promise<number> };

const millis = (time: temporal.api.history.v1.IHistoryEvent['eventTime']) =>
  Number(time?.seconds ?? 0) * 1000 + Math.floor((time?.nanos ?? 0) / 1e6);

/** The longest workflow task of a history: started to completed (or failed, or timed out). */
function longestTask(events: temporal.api.history.v1.IHistoryEvent[]): number {
  let longest = 0;
  let startedAt: number | undefined;
  for (const event of events) {
    if (event.workflowTaskStartedEventAttributes) startedAt = millis(event.eventTime);
    else if (
      startedAt !== undefined &&
      (event.workflowTaskCompletedEventAttributes ||
        event.workflowTaskFailedEventAttributes ||
        event.workflowTaskTimedOutEventAttributes)
    ) {
      longest = Math.max(longest, millis(event.eventTime) - startedAt);
      startedAt = undefined;
    }
  }
  return longest;
}

async function measure(
  client: Client,
  taskQueue: string,
  startOne: () => Promise<BenchWorker>,
  run: () => Promise<number>,
  restartAfterMs?: number,
): Promise<Measured> {
  let worker = await startOne();
  let peakRss = 0;
  let restarted: Promise<void> = Promise.resolve();
  const restart =
    restartAfterMs === undefined
      ? undefined
      : setTimeout(() => {
          restarted = (async () => {
            peakRss = Math.max(peakRss, await worker.stop());
            worker = await startOne();
            process.stdout.write(`(worker restarted ${(restartAfterMs / 1000).toFixed(0)} s into the run)\n`);
          })();
        }, restartAfterMs);
  const start = Date.now();
  const answerBytes = await run().catch(async (err: unknown) => {
    clearTimeout(restart);
    await restarted;
    await worker.stop();
    throw err;
  });
  const wallMs = Date.now() - start;
  clearTimeout(restart);
  await restarted;
  peakRss = Math.max(peakRss, await worker.stop());
  const result: Measured = {
    wallMs,
    runs: 0,
    events: 0,
    workflowTasks: 0,
    longestHistory: 0,
    largestPayload: answerBytes,
    largestHistoryBytes: 0,
    longestTaskMs: 0,
    peakRss,
  };
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
      result.largestHistoryBytes = Math.max(
        result.largestHistoryBytes,
        proto.temporal.api.history.v1.History.encode(history).finish().length,
      );
      result.workflowTasks += events.filter((e) => e.workflowTaskCompletedEventAttributes).length;
      result.longestTaskMs = Math.max(result.longestTaskMs, longestTask(events));
      for (const event of events)
        result.largestPayload = Math.max(result.largestPayload, largestPayloads(event));
    }
  }
  return result;
}

const header = [
  'run'.padEnd(22),
  'wall'.padStart(9),
  'wf tasks'.padStart(8),
  'ev/target'.padStart(9),
  'longest'.padStart(8),
  'payload'.padStart(9),
  'peak RSS'.padStart(9),
  'runs'.padStart(6),
  'longest task'.padStart(12),
].join(' ');

function row(label: string, n: number, m: Measured): string {
  return [
    label.padEnd(22),
    `${(m.wallMs / 1000).toFixed(1)} s`.padStart(9),
    String(m.workflowTasks).padStart(8),
    (m.events / n).toFixed(1).padStart(9),
    String(m.longestHistory).padStart(8),
    `${(m.largestPayload / 1024).toFixed(0)} KB`.padStart(9),
    `${(m.peakRss / 2 ** 20).toFixed(0)} MiB`.padStart(9),
    String(m.runs).padStart(6),
    `${(m.longestTaskMs / 1000).toFixed(2)} s`.padStart(12),
  ].join(' ');
}

async function runBaseline(client: Client, taskQueue: string, ips: string[]): Promise<number> {
  const parents = ips.length <= 1_000 ? [ips] : slices(ips, Math.ceil(ips.length / baselineShard));
  await Promise.all(
    parents.map((slice, i) =>
      client.workflow.execute<typeof baselineParent>('baselineParent', {
        taskQueue,
        workflowId: `baseline-${ips.length}-${i}`,
        args: [slice],
      }),
    ),
  );
  return 0;
}

/** Runs the campaigns; returns the largest upgradeStatus answer (bytes of JSON) seen at their end. */
async function runCiu(client: Client, taskQueue: string, ips: string[]): Promise<number> {
  const parts = Math.ceil(ips.length / maxCampaignTargets);
  const downloads = Math.max(1, Math.floor(maxDownloads / parts));
  const answers = await Promise.all(
    slices(ips, parts).map(async (slice, i) => {
      const handle = await client.workflow.start<typeof masterUpgrade>('masterUpgrade', {
        taskQueue,
        workflowId: `bench-${ips.length}-${i}`,
        args: [campaign(slice, downloads)],
      });
      const summary = await handle.result();
      if (summary.counts['downloaded-reboot-required'] !== slice.length)
        throw new Error(
          `campaign ${handle.workflowId} ended with ${JSON.stringify(summary.counts)}: ${summary.controllers.find((c) => c.lastError)?.lastError ?? ''}`,
        );
      return JSON.stringify(await handle.query('upgradeStatus')).length;
    }),
  );
  return Math.max(...answers);
}

async function main(): Promise<void> {
  const sizes = (process.env.BENCH_SIZES ?? '1000,10000').split(',').map(Number);
  const sides = (process.env.BENCH_SIDES ?? 'base,ciu').split(',');
  const restartAfter = Number(process.env.BENCH_RESTART_AFTER);
  const restartAfterMs = restartAfter > 0 ? restartAfter * 1000 : undefined;
  const server = await startDevServer({ uiPort: false });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, dataConverter: { payloadCodecs: [new CompressionCodec()] } });
  try {
    process.stdout.write(
      `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; load average at start ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}\n${header}\n`,
    );
    for (const n of sizes) {
      const ips = ipsFor(n);
      const baseQueue = `bench-base-${n}`;
      const ciuQueue = `bench-ciu-${n}`;
      let base: Measured | undefined;
      let ciu: Measured | undefined;
      const runBase = async () => {
        base = await measure(
          client,
          baseQueue,
          () => startWorker('baseline', server.address, baseQueue),
          () => runBaseline(client, baseQueue, ips),
        );
        const parents = n <= 1_000 ? 1 : Math.ceil(n / baselineShard);
        process.stdout.write(`${row(`base ${n} (${parents}×parent)`, n, base)}\n`);
      };
      const runCiuSide = async () => {
        const parts = Math.ceil(n / maxCampaignTargets);
        ciu = await measure(
          client,
          ciuQueue,
          () => startWorker('ciu', server.address, ciuQueue),
          () => runCiu(client, ciuQueue, ips),
          restartAfterMs,
        );
        process.stdout.write(`${row(`ciu ${n} (${parts} campaign${parts > 1 ? 's' : ''})`, n, ciu)}\n`);
      };
      for (const side of sides) await (side === 'ciu' ? runCiuSide() : runBase());
      const mib = (m: Measured) => `${(m.largestHistoryBytes / 2 ** 20).toFixed(2)} MiB`;
      const histories = [...(base ? [`base ${mib(base)}`] : []), ...(ciu ? [`ciu ${mib(ciu)}`] : [])];
      process.stdout.write(`largest history ${n}: ${histories.join(', ')} (Temporal warns at 10 MiB)\n`);
      if (!base || !ciu) continue;
      process.stdout.write(
        `ratio ${n}: wall ×${(ciu.wallMs / base.wallMs).toFixed(2)}, workflow tasks ×${(ciu.workflowTasks / base.workflowTasks).toFixed(2)}, events ×${(ciu.events / base.events).toFixed(2)}, peak RSS ×${(ciu.peakRss / base.peakRss).toFixed(2)}; load average now ${loadavg()[0]!.toFixed(1)}\n`,
      );
    }
  } finally {
    await connection.close();
    await server.stop();
    rmSync(benchDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
