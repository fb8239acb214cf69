/**
 * End to end against a plain SSH script: the same simulated fleet (20 controllers on their own
 * loopback addresses, real SSH servers), the same real vsftpd serving the same 32 MiB image, the same
 * 10 concurrent downloads. ciu: a real dev server, a `ciu worker` process (the compiled worker with the
 * prebuilt workflow bundle, as installed), `ciu write memory`, until the campaign's workflow ends. The
 * baseline: bench/plain-ssh-upgrade.ts (ssh2 as ciu uses it, every controller at once, a semaphore around
 * copy and check) doing inspect, copy, check, boot partition, reload, wait, confirm. Each round starts a fresh
 * fleet for each run; the order alternates so load drift hits both. Both are timed from outside, from
 * spawning one process (`ciu write memory`; the script under tsx) to the end (the campaign's result; the
 * script's exit). The worker is started before the timer, as a service an operator keeps running, and
 * its start time is printed beside. Prints both medians and the ratio, where ciu's time went (median
 * per step from the children's histories) and when each of the script's steps ended. The fleet (the
 * image server's files, what each simulated controller writes to its flash) lives in memory
 * (/dev/shm where there is one), not on the disk the dev server's database is on: there, the 640 MiB
 * a run's copies write spread ciu's rounds over 8.6–13.0 s (10.0–10.5 s in memory; the script's
 * barely moved), a contention no real fleet has with its Temporal server's storage.
 *   npm run bench:e2e        (BENCH_ROUNDS=3, BENCH_CONTROLLERS=20, BENCH_IMAGE_MIB=32, BENCH_MAX_DOWNLOADS=10,
 *                             BENCH_WORKER_LOG=<file> keeps the workers' logs)
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client, Connection } from '@temporalio/client';
import { stringify as stringifyYaml } from 'yaml';
import {
  controllersRef,
  imagesRef,
  startDemoEnvironment,
  type DemoEnvironment,
} from '../devkit/demo/environment';
import { startDevServer, type DevServer } from '../devkit/temporal/dev-server';
import { freePort } from '../devkit/temporal/free-port';
import type { StoredCredentials } from '../src/credentials/store';
import { addKeyToFile } from '../src/temporal/keys';
import type { masterUpgrade } from '../workflows';

const root = join(__dirname, '..');
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const controllers = Number(process.env.BENCH_CONTROLLERS ?? 20);
const imageMiB = Number(process.env.BENCH_IMAGE_MIB ?? 32);
const maxDownloads = Number(process.env.BENCH_MAX_DOWNLOADS ?? 10);
/** A subnet no test file uses, so the bench can run beside them. */
const subnet = '127.181.0.0/24';
/** Keeps the ciu workers' logs (JSON lines, every round appended) for a closer look; default dropped. */
const workerLog = process.env.BENCH_WORKER_LOG;
const target = { version: '6.5.1.0', build: 66000 };

/** Runs a command to its end; rejects with its stderr when it exits non-zero. */
function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string } = {}) {
  return new Promise<string>((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env: { ...process.env, ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(stdout)
        : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr}`)),
    );
    child.stdin.end(options.stdin ?? '');
  });
}

async function fleet(dir: string): Promise<DemoEnvironment> {
  return startDemoEnvironment({
    stateDir: join(dir, 'fleet'),
    groups: [{ subnet, target: subnet, count: controllers, models: ['A7210'], runs: 'old' }],
    targetVersion: target,
    payloadBytes: imageMiB * 1024 * 1024,
    maxDownloads,
    sshPort: await freePort(),
  });
}

/** `ciu worker` as an operator starts it; resolves once it polls, with the time that took. */
async function startWorker(dev: DevServer, env: DemoEnvironment, dir: string) {
  const credentialsFile = join(dir, 'credentials.json');
  await writeFile(credentialsFile, JSON.stringify(env.credentialEntries), { mode: 0o600 });
  const messageKeysFile = join(dir, 'message-keys.yaml');
  if (!existsSync(messageKeysFile)) addKeyToFile(messageKeysFile, { id: 'bench' });
  const started = Date.now();
  const child = spawn(process.execPath, ['bin/ciu.js', 'worker'], {
    cwd: root,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: dev.address,
      CIU_CREDENTIALS_FILE: credentialsFile,
      CIU_MESSAGE_KEYS: messageKeysFile,
      CIU_KNOWN_HOSTS: env.knownHostsFile,
      // The fleet's images are signed; the worker trusts the fleet's image key, as an operator's would.
      CIU_IMAGE_KEYS: env.imageKeyFile,
      // Info, to see when it polls; the log itself is dropped unless BENCH_WORKER_LOG names a file.
      CIU_LOG_LEVEL: 'info',
      CIU_LOG_PRETTY: '0',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`ciu worker exited ${code} before polling`)));
    createInterface({ input: child.stderr }).on('line', (line) => {
      if (workerLog) void appendFile(workerLog, `${line}\n`);
      if (line.includes('"worker polling"')) resolve();
    });
  });
  return {
    startMs: Date.now() - started,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

interface CiuRun {
  wallMs: number;
  workerStartMs: number;
  /** Median duration per step across the children, and the spread of their starts. */
  steps: Record<string, number>;
}

async function runCiu(client: Client, dev: DevServer, round: number, dir: string): Promise<CiuRun> {
  const env = await fleet(dir);
  const worker = await startWorker(dev, env, dir).catch(async (err: unknown) => {
    await env.stop();
    throw err;
  });
  try {
    const campaign = `bench-e2e-${round}`;
    const configDir = join(dir, 'ciu-home');
    await mkdir(configDir, { recursive: true });
    await writeFile(join(configDir, 'config.yaml'), stringifyYaml({ campaign, ...env.config }));
    const started = Date.now();
    await run(
      process.execPath,
      ['bin/ciu.js', '--address', dev.address, '--config-dir', configDir, 'write', 'memory'],
      {
        env: { CIU_LOG_LEVEL: 'silent' },
      },
    );
    const summary = await client.workflow
      .getHandle<typeof masterUpgrade>(campaign)
      .result()
      .catch((err: unknown) => {
        // Say why: the failure's own message, not only "Workflow execution failed".
        throw new Error(
          `ciu campaign ${campaign} failed: ${err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err)}`,
        );
      });
    const wallMs = Date.now() - started;
    if (summary.counts.upgraded !== controllers)
      throw new Error(`ciu campaign ended with ${JSON.stringify(summary.counts)}`);
    return { wallMs, workerStartMs: worker.startMs, steps: await stepTimes(client, campaign, started) };
  } finally {
    await worker.stop();
    await env.stop();
  }
}

interface PlainRun {
  wallMs: number;
  /** Median over the controllers of when each step ended, from the script's start. */
  marks: Record<string, number>;
}

async function runBaseline(round: number, dir: string): Promise<PlainRun> {
  const env = await fleet(dir);
  try {
    const login = env.credentialEntries[controllersRef] as StoredCredentials;
    const image = env.credentialEntries[imagesRef] as StoredCredentials;
    const input = {
      controllers: env.config.inventory.map((c) => ({ host: c.ssh.host, port: c.ssh.port })),
      username: login.username,
      password: login.password,
      image: { host: env.ftp.host, user: image.username, password: image.password, file: env.images.A7210 },
      target,
      maxDownloads,
    };
    const started = Date.now();
    const out = await run(process.execPath, ['--import', 'tsx', 'bench/plain-ssh-upgrade.ts'], {
      stdin: JSON.stringify(input),
    });
    const wallMs = Date.now() - started;
    const result = JSON.parse(out) as { states: Record<string, string>; marks: Record<string, number>[] };
    const states = Object.values(result.states);
    if (states.length !== controllers || states.some((s) => s !== 'upgraded'))
      throw new Error(`plain script (round ${round}) ended with ${out}`);
    const steps = Object.keys(result.marks[0] ?? {});
    return {
      wallMs,
      marks: Object.fromEntries(steps.map((step) => [step, median(result.marks.map((m) => m[step] ?? 0))])),
    };
  } finally {
    await env.stop();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * From the master's and the children's histories: how long each activity took (scheduled →
 * completed, so queueing on the worker counts), how long a child waited for its download slot, the
 * time its workflow tasks took (scheduled → completed), and when the workflows started and ended
 * relative to `write memory`.
 */
async function stepTimes(
  client: Client,
  campaign: string,
  startedMs: number,
): Promise<Record<string, number>> {
  const per: Record<string, number[]> = {};
  const add = (key: string, ms: number) => (per[key] ??= []).push(ms);
  const runs = [{ workflowId: campaign, runId: undefined as string | undefined, who: 'master' }];
  for await (const info of client.workflow.list({
    query: `WorkflowType = 'controllerUpgrade' AND CiuCampaign = '${campaign}'`,
  }))
    runs.push({ workflowId: info.workflowId, runId: info.runId, who: 'child' });
  for (const { workflowId, runId, who } of runs) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    const at = (e: (typeof events)[number]) =>
      Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
    const scheduled = new Map<string, { type: string; at: number }>();
    const seen = new Set<string>();
    let slotAsked: number | undefined;
    let taskScheduled: number | undefined;
    let taskMs = 0;
    for (const e of events) {
      if (e.workflowExecutionStartedEventAttributes) add(`${who} started`, at(e) - startedMs);
      if (e.workflowExecutionCompletedEventAttributes) add(`${who} ended`, at(e) - startedMs);
      if (e.workflowTaskScheduledEventAttributes) taskScheduled = at(e);
      if (e.workflowTaskCompletedEventAttributes && taskScheduled !== undefined)
        taskMs += at(e) - taskScheduled;
      if (e.activityTaskScheduledEventAttributes) {
        const type = e.activityTaskScheduledEventAttributes.activityType?.name ?? '?';
        scheduled.set(String(e.eventId), { type: seen.has(type) ? `${type} again` : type, at: at(e) });
        seen.add(type);
      }
      const done = e.activityTaskCompletedEventAttributes;
      const from = done && scheduled.get(String(done.scheduledEventId));
      if (from) add(`${who} ${from.type}`, at(e) - from.at);
      if (e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName === 'downloadSlotRequest')
        slotAsked = at(e);
      if (
        e.workflowExecutionSignaledEventAttributes?.signalName === 'downloadSlotGrant' &&
        slotAsked !== undefined
      )
        add(`${who} slot wait`, at(e) - slotAsked);
    }
    add(`${who} workflow tasks (sum)`, taskMs);
  }
  const steps: Record<string, number> = {};
  for (const [key, values] of Object.entries(per)) {
    steps[key] = median(values);
    if (key === 'child started' || key === 'child ended') {
      steps[`first ${key}`] = Math.min(...values);
      steps[`last ${key}`] = Math.max(...values);
    }
  }
  return steps;
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  const dev = await startDevServer({ uiPort: false });
  const connection = await Connection.connect({ address: dev.address });
  const client = new Client({ connection });
  const scratch = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ciu-bench-e2e-'));
  const ciuRuns: CiuRun[] = [];
  const baseRuns: PlainRun[] = [];
  try {
    process.stdout.write(
      `${controllers} simulated controllers, ${imageMiB} MiB image over vsftpd, max-downloads ${maxDownloads}, ${rounds} rounds\n`,
    );
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 ? (['ciu', 'plain'] as const) : (['plain', 'ciu'] as const);
      for (const which of order) {
        const dir = join(scratch, `${which}-${round}`);
        await mkdir(dir, { recursive: true });
        if (which === 'ciu') {
          const r = await runCiu(client, dev, round, dir);
          ciuRuns.push(r);
          process.stdout.write(
            `round ${round} ciu   ${s(r.wallMs)} (worker started in ${s(r.workerStartMs)})\n`,
          );
        } else {
          const r = await runBaseline(round, dir);
          baseRuns.push(r);
          process.stdout.write(`round ${round} plain ${s(r.wallMs)}\n`);
        }
        await rm(dir, { recursive: true, force: true });
      }
    }
    const ciu = median(ciuRuns.map((r) => r.wallMs));
    const plain = median(baseRuns.map((r) => r.wallMs));
    process.stdout.write(
      `\nmedian: ciu ${s(ciu)}, plain SSH script ${s(plain)}, ratio ×${(ciu / plain).toFixed(2)}; worker start ${s(median(ciuRuns.map((r) => r.workerStartMs)))} (not in ciu's time)\n`,
    );
    process.stdout.write(
      'ciu, where the time went (median over rounds of the per-child median; from write memory):\n',
    );
    const keys = Object.keys(ciuRuns[0]?.steps ?? {});
    for (const key of keys)
      process.stdout.write(`  ${key.padEnd(26)} ${s(median(ciuRuns.map((r) => r.steps[key] ?? 0)))}\n`);
    process.stdout.write(
      'plain script, when each step ended (median over rounds of the per-controller median; from its start):\n',
    );
    for (const key of Object.keys(baseRuns[0]?.marks ?? {}))
      process.stdout.write(`  ${key.padEnd(26)} ${s(median(baseRuns.map((r) => r.marks[key] ?? 0)))}\n`);
  } finally {
    await connection.close();
    await dev.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
