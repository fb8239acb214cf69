/**
 * Simulation of the 100,000 plan (README, Performance, "100,000 controllers"): a parent that holds
 * only a config reference and per-shard counts, and shards of 1,000 controllers that each run
 * today's master logic — the real CampaignState (workflows/campaign-state.ts) on its slice — with a
 * download quota the parent moves between them. Activities run nothing, only take time on a virtual
 * clock: a download `BENCH_DOWNLOAD_S` seconds (1; 0 for instant), a workflow task `BENCH_TASK_S`, a
 * signal `BENCH_SIGNAL_S`, one
 * controller in 20 fails its first cycle and asks for a slot again after `BENCH_RETRY_S`. No server,
 * no worker: it shows what each holder stores (through the real data converter), what it sends and
 * receives against Temporal's per-workflow limits, that the image server never sees more than
 * max-downloads at once, and how much of the slots' time the quota round trips cost.
 *   npm run bench:shards                  (BENCH_TARGETS=100000 BENCH_MAX_DOWNLOADS=10,100)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { putConfig, readConfig } from '../src/config-store/store';
import { utf8Bytes } from '../src/domain/campaign-limits';
import { validateCampaignConfig } from '../src/domain/config';
import type { ControllerState } from '../src/domain/status';
import type { CampaignConfig } from '../src/domain/types';
import { CampaignState } from '../workflows/campaign-state';
import { fleetConfig, image, kb, stored } from './capacity';

/** What one run of the simulation found. */
export interface ShardRun {
  targets: number;
  shards: number;
  maxDownloads: number;
  /** Every target's end state, summed over the shards. */
  counts: Partial<Record<ControllerState, number>>;
  /** Most downloads running at once, campaign-wide (must not pass maxDownloads). */
  peakDownloads: number;
  /** Virtual seconds from the first task to the last controller final. */
  makespan: number;
  /** Downloads that failed once and ran again. */
  retried: number;
  parent: {
    tasks: number;
    signalsIn: number;
    signalsOut: number;
    /** Most of the parent's signals in flight at once (Temporal: 2,000 pending). */
    peakPendingSignals: number;
    /** History events, and the runs they take at 6,000 events a run. */
    events: number;
    runs: number;
  };
  /** Per shard: the most quota signals one received, and the most reports one sent. */
  perShard: { quotaSignals: number; reports: number };
}

/** Controllers per shard in the plan. */
export const shardSize = 1_000;
/** History length at which a run continues as new (MasterOptions.historyLimit's default). */
const historyLimit = 6_000;

/** Virtual-clock settings of one run. */
export interface ShardTiming {
  downloadS: number;
  taskS: number;
  signalS: number;
  retryS: number;
  /** A shard reports changed counts at most this often unless its demand changed too. */
  countsEveryS: number;
}

const defaultTiming: ShardTiming = {
  downloadS: 1,
  taskS: 0.05,
  signalS: 0.02,
  retryS: 120,
  countsEveryS: 60,
};

type Event = { at: number; seq: number; run: () => void };

/** A min-heap of events by time, ties in the order they were scheduled. */
class Clock {
  now = 0;
  private heap: Event[] = [];
  private seq = 0;
  at(delay: number, run: () => void): void {
    const event = { at: this.now + delay, seq: this.seq++, run };
    const heap = this.heap;
    heap.push(event);
    for (let i = heap.length - 1; i > 0;) {
      const up = (i - 1) >> 1;
      if (!before(heap[i]!, heap[up]!)) break;
      [heap[i], heap[up]] = [heap[up]!, heap[i]!];
      i = up;
    }
  }
  runAll(): void {
    const heap = this.heap;
    while (heap.length > 0) {
      const top = heap[0]!;
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        for (let i = 0; ;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
          if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
          if (m === i) break;
          [heap[i], heap[m]] = [heap[m]!, heap[i]!];
          i = m;
        }
      }
      this.now = top.at;
      top.run();
    }
  }
}
const before = (a: Event, b: Event) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/** A workflow: messages wait in its inbox until its next task, which handles them all at once. */
class Workflow {
  private inbox: Array<() => void> = [];
  private scheduled = false;
  tasks = 0;
  constructor(
    private readonly clock: Clock,
    private readonly taskS: number,
    private readonly turn: () => void,
  ) {}
  deliver(message: () => void): void {
    this.inbox.push(message);
    this.wake();
  }
  wake(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.clock.at(this.taskS, () => {
      this.scheduled = false;
      this.tasks++;
      for (const message of this.inbox.splice(0)) message();
      this.turn();
    });
  }
}

/**
 * Runs one sharded campaign of `targets` controllers with `maxDownloads` slots campaign-wide. A shard
 * is a CampaignState over its slice whose profile's maxDownloads is its quota: the built shard would
 * take the quota as its own field; the master logic that uses it (start with a slot, queue, grant,
 * release at a report) is the real one.
 */
export function simulateShards(
  targets: number,
  maxDownloads: number,
  timing: ShardTiming = defaultTiming,
  size = shardSize,
): ShardRun {
  const clock = new Clock();
  const whole = fleetConfig(targets);
  const shards = Math.ceil(targets / size);
  const quotaSignals = new Array<number>(shards).fill(0);
  const reports = new Array<number>(shards).fill(0);
  let downloads = 0;
  let peakDownloads = 0;
  const failedOnce = new Set<string>();
  const parent = { signalsIn: 0, signalsOut: 0, pending: 0, peakPending: 0 };
  /** The parent's view: quota given and demand last reported, per shard. */
  const given = new Array<number>(shards).fill(0);
  const demand = new Array<number>(shards).fill(0);
  let free = maxDownloads;

  const slices = Array.from({ length: shards }, (_, index) => {
    const config: CampaignConfig = {
      ...whole,
      inventory: whole.inventory.slice(index * size, (index + 1) * size),
      profile: { ...whole.profile, maxDownloads: 0 },
    };
    const state = new CampaignState(config, `sim/shard-${index}`, { info() {}, warn() {} });
    state.applyTargets();
    for (const { key } of state.imagesToVerify()) state.recordCheck(key, { ok: true, image });
    return {
      index,
      config,
      state,
      lastDemand: -1,
      lastCounts: '',
      countsSentAt: -Infinity,
      countsWake: false,
    };
  });
  type Slice = (typeof slices)[number];

  const signalToParent = (message: () => void) => {
    parent.signalsIn++;
    clock.at(timing.signalS, () => parentWorkflow.deliver(message));
  };

  const download = (slice: Slice, ip: string, workflow: Workflow) => {
    downloads++;
    peakDownloads = Math.max(peakDownloads, downloads);
    clock.at(timing.downloadS, () => {
      downloads--;
      const fails = Number(ip.split('.')[3]) % 20 === 7 && !failedOnce.has(ip);
      if (fails) failedOnce.add(ip);
      workflow.deliver(() => {
        if (fails) {
          slice.state.applyReport(
            { ip, state: 'waiting-retry', attempts: 1, releasesSlot: true, lastError: 'TransferFailed' },
            false,
          );
          clock.at(timing.retryS, () => workflow.deliver(() => slice.state.requestSlot(ip)));
        } else slice.state.applyReport({ ip, state: 'upgraded', attempts: 1 }, true);
      });
    });
  };

  const shardWorkflows = slices.map((slice) => {
    const workflow: Workflow = new Workflow(clock, timing.taskS, () => {
      const { state, config } = slice;
      for (const { controller, generation } of state.takeDispatches(200, state.startRoom(false))) {
        state.childStarted(controller.ip, generation, `run-${controller.ip}`);
        if (state.slotWithStart(controller.ip)) download(slice, controller.ip, workflow);
        else state.queueWithStart(controller.ip);
      }
      for (const ip of state.grantSlots()) download(slice, ip, workflow);
      // What the shard still wants: controllers not started or waiting for a slot, and those holding one.
      const { inUse, waiting } = state.slots;
      const counts = state.counts();
      const wanting = (counts['waiting-verification'] ?? 0) + waiting;
      // Never more than the campaign's max-downloads: a shard with hundreds waiting reports once.
      const want = Math.min(maxDownloads, inUse + wanting);
      // Quota it cannot use goes back at once; it lowers its own bound first, so the sum never passes max.
      const release = Math.max(0, config.profile.maxDownloads - Math.max(inUse, want));
      config.profile.maxDownloads -= release;
      // Counts (for status and the campaign-wide failure budget) ride along, or go alone at most every countsEveryS.
      const countsNow = JSON.stringify(counts);
      const countsChanged = countsNow !== slice.lastCounts;
      const countsDue = countsChanged && clock.now - slice.countsSentAt >= timing.countsEveryS;
      if (release > 0 || want !== slice.lastDemand || countsDue || (countsChanged && state.done())) {
        slice.lastDemand = want;
        slice.lastCounts = countsNow;
        slice.countsSentAt = clock.now;
        reports[slice.index]!++;
        signalToParent(() => {
          demand[slice.index] = want;
          given[slice.index]! -= release;
          free += release;
        });
      }
      // A shard with unsent counts looks again when they are due.
      else if (countsChanged && !slice.countsWake) {
        slice.countsWake = true;
        clock.at(slice.countsSentAt + timing.countsEveryS - clock.now, () => {
          slice.countsWake = false;
          workflow.wake();
        });
      }
    });
    return workflow;
  });

  const parentWorkflow: Workflow = new Workflow(clock, timing.taskS, () => {
    // Free quota to the shards that want more, lowest index first (a wave's shards finish together).
    for (let i = 0; i < shards && free > 0; i++) {
      const more = Math.min(free, demand[i]! - given[i]!);
      if (more <= 0) continue;
      free -= more;
      given[i]! += more;
      parent.signalsOut++;
      parent.pending++;
      parent.peakPending = Math.max(parent.peakPending, parent.pending);
      quotaSignals[i]!++;
      clock.at(timing.signalS, () => {
        parent.pending--;
        shardWorkflows[i]!.deliver(() => {
          slices[i]!.config.profile.maxDownloads += more;
        });
      });
    }
  });

  // The parent starts every shard (100 pending children); each looks at its slice and reports its demand.
  for (const workflow of shardWorkflows) workflow.wake();
  clock.runAll();

  const counts: Partial<Record<ControllerState, number>> = {};
  for (const { state } of slices)
    for (const [key, n] of Object.entries(state.counts()))
      counts[key as ControllerState] = (counts[key as ControllerState] ?? 0) + (n ?? 0);
  // History events: 3 a workflow task, 1 a signal received, 2 a signal sent, 3 a shard started.
  const events = parentWorkflow.tasks * 3 + parent.signalsIn + parent.signalsOut * 2 + shards * 3;
  return {
    targets,
    shards,
    maxDownloads,
    counts,
    peakDownloads,
    makespan: clock.now,
    retried: failedOnce.size,
    parent: {
      tasks: parentWorkflow.tasks,
      signalsIn: parent.signalsIn,
      signalsOut: parent.signalsOut,
      peakPendingSignals: parent.peakPending,
      events,
      runs: Math.ceil(events / historyLimit),
    },
    perShard: { quotaSignals: Math.max(...quotaSignals), reports: Math.max(...reports) },
  };
}

const n = (value: number) => value.toLocaleString('en-US');

/** What each holder stores at `targets`, through the real data converter (deflated; encrypted within 1 KB). */
async function holdings(targets: number): Promise<string[]> {
  const whole = fleetConfig(targets);
  const store = mkdtempSync(join(tmpdir(), 'ciu-shards-'));
  try {
    const ref = putConfig(store, whole);
    const started = performance.now();
    const read = readConfig(store, ref);
    const readMs = performance.now() - started;
    const slice = { ...whole, inventory: whole.inventory.slice(0, shardSize) };
    const validating = performance.now();
    const valid = validateCampaignConfig({ ...(read as CampaignConfig), inventory: slice.inventory });
    const validateMs = performance.now() - validating;
    if (!valid.ok) throw new Error(`slice does not validate: ${valid.issues.join('; ')}`);
    const shards = Math.ceil(targets / shardSize);
    const shardState = new CampaignState(slice, 'sim/shard-0', { info() {}, warn() {} });
    shardState.applyTargets();
    // The parent's carried state: the reference, and per shard its counts, quota and demand.
    const parentCarried = {
      configRef: ref,
      shards: Array.from({ length: shards }, (_, i) => ({
        id: `sim/shard-${i}`,
        counts: { upgraded: 900, failed: 50, 'waiting-retry': 40, downloading: 10 },
        quota: 1,
        demand: 50,
      })),
    };
    return [
      `config in the store: ${kb(ref.bytes)} as JSON (${n(targets)} inventory entries), object ${ref.sha256.slice(0, 12)}…json; read and hash-checked by a worker in ${readMs.toFixed(0)} ms`,
      `parent input: ${utf8Bytes(JSON.stringify({ configRef: ref }))} bytes ({ configRef }); carried: ${kb(await stored(parentCarried, false))} for ${shards} shards (reference, counts, quota, demand each); status answer: the same counts`,
      `shard input: its slice, ${kb(utf8Bytes(JSON.stringify(slice)))} as JSON, ${kb(await stored(slice, false))} stored (or the reference and its index, read by an activity); validating it: ${validateMs.toFixed(0)} ms`,
      `shard carried at start: ${kb(await stored(shardState.carried(), false))}; all final: as the ${n(shardSize)} row of npm run bench:capacity`,
    ];
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const targets = Number(process.env.BENCH_TARGETS ?? 100_000);
  const timing: ShardTiming = {
    downloadS: Number(process.env.BENCH_DOWNLOAD_S ?? defaultTiming.downloadS),
    taskS: Number(process.env.BENCH_TASK_S ?? defaultTiming.taskS),
    signalS: Number(process.env.BENCH_SIGNAL_S ?? defaultTiming.signalS),
    retryS: Number(process.env.BENCH_RETRY_S ?? defaultTiming.retryS),
    countsEveryS: Number(process.env.BENCH_COUNTS_S ?? defaultTiming.countsEveryS),
  };
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(
    `What holds what at ${n(targets)} controllers (${Math.ceil(targets / shardSize)} shards of ${n(shardSize)}):`,
  );
  for (const line of await holdings(targets)) out(`  ${line}`);
  out(
    `\nOne campaign on a virtual clock: download ${timing.downloadS} s, workflow task ${timing.taskS} s, signal ${timing.signalS} s, 1 in 20 fails its first cycle and asks again after ${timing.retryS} s, counts reported at most every ${timing.countsEveryS} s`,
  );
  for (const maxDownloads of (process.env.BENCH_MAX_DOWNLOADS ?? '10,100').split(',').map(Number)) {
    const wall = performance.now();
    const run = simulateShards(targets, maxDownloads, timing);
    const simulated = (performance.now() - wall) / 1000;
    // The baseline: the same model with one shard holding every target, as one master would (no quota moves).
    const one = simulateShards(targets, maxDownloads, timing, targets);
    const { parent } = run;
    out(
      `max-downloads ${maxDownloads}: ${n(run.counts.upgraded ?? 0)} upgraded of ${n(run.targets)} (${n(run.retried)} after a retry); peak downloads ${run.peakDownloads} (limit ${maxDownloads}); ` +
        `virtual time ${n(Math.round(run.makespan))} s, one unsharded master ${n(Math.round(one.makespan))} s: ×${(run.makespan / one.makespan).toFixed(3)}`,
    );
    out(
      `  parent: ${n(parent.tasks)} workflow tasks, ${n(parent.signalsIn)} reports in, ${n(parent.signalsOut)} quota signals out (at most ${parent.peakPendingSignals} pending; Temporal: 2,000), ` +
        `${n(parent.events)} events: ${parent.runs} run(s) at ${n(historyLimit)} events, each under 10,000 signals`,
    );
    out(
      `  busiest shard: ${n(run.perShard.quotaSignals)} quota signals in, ${n(run.perShard.reports)} reports out; simulated in ${simulated.toFixed(1)} s`,
    );
  }
}

if (require.main === module)
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
