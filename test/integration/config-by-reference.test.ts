import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import pino from 'pino';
import { stringify as stringifyYaml } from 'yaml';
import { createConfigStoreActivities } from '../../activities/config-store';
import { maxConfigBytes, utf8Bytes } from '../../src/domain/campaign-limits';
import { failureTypes } from '../../src/domain/errors';
import type { CampaignConfig } from '../../src/domain/types';
import type { LocalTemporal } from '../../devkit/stack';
import { committedConfigQuery, upgradeStatusQuery, type masterUpgrade } from '../../workflows';
import { eventually } from '../fixtures/eventually';
import { runCiu } from '../fixtures/processes';
import { startMasterWithCli, startTestTemporal } from '../fixtures/temporal';
import { withWorker } from '../fixtures/worker';
import { campaignConfig, controller, fakeActivities, installQuietRuntime } from '../workflow/fake-activities';

// A config too large to travel as a start input (here 18,000 inventory entries, ~2.3 MB as JSON)
// goes by reference: `ciu write memory` writes it to the config store every worker reads
// (CIU_CONFIG_STORE) and starts the campaign with its hash and length; `ciu write config-store`
// prints that reference for a plain `temporal workflow start`. The worker reads the object, checks
// it, and the master runs it like any other.

/** 18,000 controllers (10.200.x.y, inert data) of which `targets` are targeted. */
function largeConfig(targets: string): CampaignConfig {
  const ips = Array.from({ length: 18_000 }, (_, i) => `10.${200 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`);
  return campaignConfig(
    ips.map((ip) => controller(ip)),
    {},
    [targets],
  );
}

let temporal: LocalTemporal;
let root: string;
let store: string;

beforeAll(async () => {
  installQuietRuntime();
  temporal = await startTestTemporal();
});
afterAll(() => temporal?.stop());
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ciu-config-ref-'));
  store = join(root, 'configs');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A config directory with `config` staged for `campaign` (a fresh one each time). */
function stage(campaign: string, config: CampaignConfig): string {
  const dir = mkdtempSync(join(root, `${campaign}-`));
  writeFileSync(join(dir, 'config.yaml'), stringifyYaml({ campaign, ...config }));
  return dir;
}

/** Fake controllers whose downloads wait for `release`, and the worker's real config-store activity. */
function activitiesHeld() {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const { activities } = fakeActivities({
    downloadImage: async () => {
      await held;
      return { bytes: 1024 };
    },
  });
  const fromStore = createConfigStoreActivities({ configStore: store, logger: pino({ level: 'silent' }) });
  return { activities: { ...activities, ...fromStore }, release };
}

test('ciu write memory passes a config over the inline limit by reference, and a commit of a changed one the same way', async () => {
  const first = largeConfig('10.200.0.0/29');
  expect(utf8Bytes(JSON.stringify(first))).toBeGreaterThan(maxConfigBytes);
  const { activities, release } = activitiesHeld();
  const env = { CIU_CONFIG_STORE: store };
  try {
    await withWorker({ connection: temporal.workerConnection, activities, taskQueue: 'ciu' }, async () => {
      const started = await runCiu(temporal.dev.address, stage('by-ref', first), ['write', 'memory'], env);
      expect(started).toEqual({
        code: 0,
        stdout: expect.stringMatching(/^Campaign by-ref started/),
        stderr: '',
      });
      const handle = temporal.client.workflow.getHandle<typeof masterUpgrade>('by-ref');
      // What Temporal holds as the start input is the reference, not 2.3 MB of config.
      const history = await handle.fetchHistory();
      const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      const startInput = JSON.parse(Buffer.from(input?.data ?? []).toString()) as unknown;
      expect(startInput).toEqual({
        configRef: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/), bytes: expect.any(Number) },
      });
      expect(input?.data?.length).toBeLessThan(150);
      expect((await handle.query(committedConfigQuery)).inventory).toHaveLength(18_000);
      await eventually(async () => (await handle.query(upgradeStatusQuery)).counts.downloading === 8, {
        what: 'eight downloads',
      });

      // The changed config (sixteen targets) is committed by reference too: the running campaign takes it.
      const pushed = await runCiu(
        temporal.dev.address,
        stage('by-ref', largeConfig('10.200.0.0/28')),
        ['write', 'memory'],
        env,
      );
      expect(pushed).toMatchObject({
        code: 0,
        stdout: expect.stringMatching(
          /^Campaign by-ref is running; config pushed: revision 2; added 10\.200\.0\.8, /,
        ),
      });
      release();
      const summary = await handle.result();
      expect(summary.counts).toEqual({ 'downloaded-reboot-required': 16 });
    });
  } finally {
    release();
  }
});

test('a plain temporal workflow start passes the reference ciu write config-store printed; a bad or unknown one fails naming configRef', async () => {
  const config = largeConfig('10.200.0.0/30');
  const written = await runCiu(temporal.dev.address, stage('plain', config), ['write', 'config-store'], {
    CIU_CONFIG_STORE: store,
  });
  expect(written).toMatchObject({
    code: 0,
    stdout: expect.stringMatching(/^\{"configRef":\{"sha256":"[0-9a-f]{64}","bytes":\d+\}\}\n$/),
  });
  const reference = written.stdout.trim();
  const { activities, release } = activitiesHeld();
  release();
  await withWorker({ connection: temporal.workerConnection, activities }, async (taskQueue) => {
    const start = (workflowId: string, input: string) =>
      startMasterWithCli(temporal.dev.address, taskQueue, workflowId, ['--input', input]);
    const result = (workflowId: string) =>
      temporal.client.workflow
        .getHandle<typeof masterUpgrade>(workflowId)
        .result()
        .catch((err: unknown) => {
          expect(err).toBeInstanceOf(WorkflowFailedError);
          return (err as WorkflowFailedError).cause as ApplicationFailure;
        });

    await start(`plain-${taskQueue}`, reference);
    expect(await result(`plain-${taskQueue}`)).toMatchObject({ counts: { 'downloaded-reboot-required': 4 } });

    await start(
      `traversal-${taskQueue}`,
      JSON.stringify({ configRef: { sha256: '../../etc/passwd', bytes: 10 } }),
    );
    expect(await result(`traversal-${taskQueue}`)).toMatchObject({
      type: failureTypes.invalidInput,
      message: expect.stringContaining('configRef.sha256 must be 64 lowercase hex digits'),
    });

    await start(
      `unknown-${taskQueue}`,
      JSON.stringify({ configRef: { sha256: 'e'.repeat(64), bytes: 100 } }),
    );
    expect(await result(`unknown-${taskQueue}`)).toMatchObject({
      type: failureTypes.invalidInput,
      message: expect.stringContaining(
        `configRef.sha256: no config ${'e'.repeat(64)} in the worker's config store`,
      ),
    });
    // Only the campaign that read its config started children.
    await eventually(async () => {
      const children = await temporal.client.workflow.count(
        `WorkflowType = 'controllerUpgrade' AND TaskQueue = '${taskQueue}'`,
      );
      return children.count === 4;
    });
  });
});

test('ciu write memory by reference to a worker without the config store says why the campaign failed', async () => {
  const { activities } = fakeActivities();
  const noStore = createConfigStoreActivities({ logger: pino({ level: 'silent' }) });
  await withWorker(
    { connection: temporal.workerConnection, activities: { ...activities, ...noStore }, taskQueue: 'ciu' },
    async () => {
      const result = await runCiu(
        temporal.dev.address,
        stage('no-store', largeConfig('10.200.0.0/30')),
        ['write', 'memory'],
        { CIU_CONFIG_STORE: store },
      );
      expect(result).toMatchObject({
        code: 2,
        stderr: expect.stringContaining(
          'its run failed: configRef: this worker has no config store (set CIU_CONFIG_STORE to the directory `ciu` writes configs to)',
        ),
      });
    },
  );
});
