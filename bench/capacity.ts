/**
 * Capacity simulation: builds one masterUpgrade's real state (workflows/campaign-state.ts) for N
 * controllers in process — every child started and bound to its run, then every one reported final
 * (one in ten failed with an error) — and encodes what Temporal would store through the real data
 * converter (message seal, compression, encryption). Prints the payload sizes beside Temporal's
 * limits (the status page and the plan are query answers). Instant: no server, no worker.
 *   npm run bench:capacity                 (BENCH_SIZES=1000,10000,100000 by default)
 */
import { randomUUID } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { campaignSizeIssues, maxCampaignTargets, utf8Bytes } from '../src/domain/campaign-limits';
import type { CampaignConfig } from '../src/domain/types';
import { ciuDataConverter } from '../src/temporal/data-converter';
import { generateKeyRing } from '../src/temporal/keys';
import { MessageSealCodec } from '../src/temporal/message-seal';
import { CampaignState } from '../workflows/campaign-state';
import { campaignPlan } from '../workflows/rollout';

/** Bytes Temporal stores for one value, after the worker's codecs. */
export interface StoredSizes {
  /** The config as plain JSON: what `temporal workflow start --input` sends (no codec). */
  startInput: number;
  /** The config as a worker writes it (continue-as-new input). */
  config: number;
  /** The carried state while every child runs (each bound to its run, one report heard). */
  carriedRunning: number;
  /** The carried state once every target is final. */
  carriedDone: number;
  /** masterUpgrade's result. */
  summary: number;
  /** One upgradeStatus page (the default, 250 controllers). */
  statusPage: number;
  /** The upgradePlan query's answer (every controller). */
  plan: number;
}

/** N controllers of one model, on inert 10.x addresses, targeting all. */
export function fleetConfig(n: number): CampaignConfig {
  return {
    inventory: Array.from({ length: n }, (_, i) => ({
      ip: `10.${1 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`,
      model: 'A7210',
      role: 'local',
      ssh: { host: '127.0.0.1', port: 2222 },
      credentialsRef: 'ctl-admin',
    })),
    profile: {
      models: {
        A7210: {
          imageFile: 'ArubaOS_72xx_6.4.0.0_81234',
          server: { host: '127.0.0.1', port: 21 },
          protocol: 'ftp',
          credentialsRef: 'ftp-images',
        },
      },
      autoboot: true,
      maxDownloads: 10,
      retryInterval: '15m',
      quickTries: 3,
      partition: 'non-boot',
    },
    targets: ['all'],
  };
}

export const image = {
  imageType: '72xx',
  version: '6.4.0.0',
  build: 81234,
  payloadLength: 104_857_600,
  payloadSha256: 'ab'.repeat(32),
  bytesRead: 64,
};

/** Encodes `value` as a ciu worker does; `encrypted` adds payload encryption (`CIU_PAYLOAD_KEYS`). */
export async function stored(value: unknown, encrypted: boolean): Promise<number> {
  const { payloadCodecs = [] } = ciuDataConverter({
    messageCodec: new MessageSealCodec(generateKeyRing('capacity')),
    ...(encrypted ? { payloadKeys: generateKeyRing('capacity') } : {}),
  });
  let payloads: Payload[] = [defaultPayloadConverter.toPayload(value) as Payload];
  for (const codec of payloadCodecs) payloads = await codec.encode(payloads);
  return payloads.reduce((sum, p) => sum + (p.data?.length ?? 0), 0);
}

/** Drives one campaign's state through a whole run of `n` controllers and measures what it stores. */
export async function simulateCampaign(n: number, encrypted = false): Promise<StoredSizes> {
  const config = fleetConfig(n);
  const state = new CampaignState(config, 'capacity', { info() {}, warn() {} });
  state.applyTargets();
  for (const { key } of state.imagesToVerify()) state.recordCheck(key, { ok: true, image });
  const started = [];
  for (let batch = state.takeDispatches(1_000); batch.length > 0; batch = state.takeDispatches(1_000))
    started.push(...batch);
  for (const { controller, generation } of started) {
    const run = randomUUID();
    state.childStarted(controller.ip, generation, run);
    state.reportProblem(controller.ip, run, 1);
    state.applyReport(
      {
        ip: controller.ip,
        state: 'downloading',
        attempt: 1,
        attempts: 1,
        updatedAt: new Date(Date.UTC(2026, 10, 27, 23, 0, 0) + started.length).toISOString(),
      },
      false,
    );
  }
  const carriedRunning = await stored(state.carried(), encrypted);
  started.forEach(({ controller }, i) => {
    const failed = i % 10 === 0;
    state.applyReport(
      {
        ip: controller.ip,
        state: failed ? 'failed' : 'upgraded',
        attempts: failed ? 6 : 1,
        image: config.profile.models.A7210?.imageFile,
        targetVersion: image.version,
        targetBuild: image.build,
        runningVersion: image.version,
        runningBuild: image.build,
        bytes: image.payloadLength,
        totalBytes: image.payloadLength,
        updatedAt: new Date(Date.UTC(2026, 10, 27, 23, 30, 0) + i * 37).toISOString(),
        ...(failed
          ? {
              lastError: `TransferFailed: copy ftp: 550 Failed to open file ArubaOS_72xx_6.4.0.0_81234 on 127.0.0.1:21 (try ${(i % 3) + 1} of 3)`,
            }
          : {}),
      },
      true,
    );
  });
  return {
    startInput: utf8Bytes(JSON.stringify(config)),
    config: await stored(config, encrypted),
    carriedRunning,
    carriedDone: await stored(state.carried(), encrypted),
    summary: await stored(state.summary('completed'), encrypted),
    statusPage: await stored(state.status(), encrypted),
    plan: await stored(
      campaignPlan(state.committed, state.status({ limit: Number.MAX_SAFE_INTEGER }), new Date()),
      encrypted,
    ),
  };
}

/**
 * What one turn of masterUpgrade's main loop asks of the state, in milliseconds, with half of `n`
 * targets done and twice max-downloads children alive: a replay pays it again for every workflow task.
 */
export function turnCost(n: number): number {
  const state = new CampaignState(fleetConfig(n), 'capacity', { info() {}, warn() {} });
  state.applyTargets();
  for (const { key } of state.imagesToVerify()) state.recordCheck(key, { ok: true, image });
  for (let done = 0; done < n / 2;) {
    for (const { controller, generation } of state.takeDispatches(200, state.startRoom())) {
      state.childStarted(controller.ip, generation, randomUUID());
      state.applyReport({ ip: controller.ip, state: 'upgraded', attempts: 1 }, true);
      done++;
    }
  }
  for (const { controller, generation } of state.takeDispatches(200, state.startRoom()))
    state.childStarted(controller.ip, generation, randomUUID());
  const turns = 200;
  const start = performance.now();
  for (let i = 0; i < turns; i++) {
    const now = Date.now();
    state.imagesToVerify();
    state.advanceControl(now);
    state.takeDispatches(200, state.startRoom());
    state.takePendingPurges(500);
    state.grantSlots(500);
    state.hasPendingPurges();
    state.takePendingAborts();
    state.grantReboots();
    [...state.controlDetails(now), ...state.redundancyDetails(), JSON.stringify(state.counts())].join('\n');
    state.done();
  }
  return (performance.now() - start) / turns;
}

export const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

/** Children a master run starts before it continues as new (MasterOptions.childrenPerRun's default). */
const childrenPerRun = 1_500;
/** Controllers per shard in the 100,000 plan (README, Performance). */
const shardSize = 1_000;

async function main(): Promise<void> {
  const sizes = (process.env.BENCH_SIZES ?? '1000,10000,100000').split(',').map(Number);
  const columns: Array<[string, number]> = [
    ['targets', 8],
    ['codec', 8],
    ['start input', 11],
    ['config', 9],
    ['carried/run', 11],
    ['carried/end', 11],
    ['summary', 9],
    ['status page', 11],
    ['plan', 9],
    ['master runs', 11],
  ];
  process.stdout.write(
    `Stored bytes per payload of ONE master (Temporal: 2 MiB blob limit, warning at 512 KiB; goal ≤512 KB, the start input apart)\n${columns.map(([name, width]) => name.padStart(width)).join(' ')}  one campaign?\n`,
  );
  for (const n of sizes)
    for (const encrypted of [false, true]) {
      const s = await simulateCampaign(n, encrypted);
      const issues = campaignSizeIssues(fleetConfig(n)).map((issue) =>
        issue.replace(/^campaign too large: /, '').replace(/ \(.*$/, ''),
      );
      const cells = [
        n.toLocaleString('en-US'),
        encrypted ? 'encrypt' : 'deflate',
        kb(s.startInput),
        kb(s.config),
        kb(s.carriedRunning),
        kb(s.carriedDone),
        kb(s.summary),
        kb(s.statusPage),
        kb(s.plan),
        `≥${Math.ceil(n / childrenPerRun)}`,
      ];
      process.stdout.write(
        `${cells.map((cell, i) => cell.padStart(columns[i]![1])).join(' ')}  ${issues.length === 0 ? 'yes' : `no: ${issues.join('; ')}`}\n`,
      );
    }
  for (const n of sizes)
    process.stdout.write(
      `master main-loop turn at ${n.toLocaleString('en-US')} targets: ${turnCost(n).toFixed(2)} ms (a replay pays it once per workflow task it replays)\n`,
    );
  const largest = Math.max(...sizes);
  if (largest > maxCampaignTargets) {
    const slice = fleetConfig(shardSize);
    process.stdout.write(
      `\nPlanned for ${largest.toLocaleString('en-US')} (simulated by npm run bench:shards; not built): ${Math.ceil(largest / shardSize)} shards of ${shardSize.toLocaleString('en-US')}, each carrying what the ${shardSize.toLocaleString('en-US')} row shows; its config slice ${kb(utf8Bytes(JSON.stringify(slice)))} as JSON, ${kb(await stored(slice, true))} stored encrypted; the whole config (${kb(utf8Bytes(JSON.stringify(fleetConfig(largest))))}) passes by reference: a 64-hex SHA-256 name in a store every worker reads.\n`,
    );
  }
}

if (require.main === module)
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
