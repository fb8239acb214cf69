/**
 * Retry after the campaign completed, end to end: a real Temporal dev server, a real Worker with the
 * real activities, a real vsftpd, and simulated controllers over real SSH, driven through the `ciu`
 * commands an operator types. A campaign completes with one controller failed (its flash full); the
 * flash is freed, `ciu upgrade target retry <ip>` runs the same campaign again for it alone, and the
 * controllers' own logs show that nothing touched the ones already upgraded. The README's plain
 * `temporal` recipe (committedConfig query, workflow result, workflow start) retries the last one.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Fleet } from '../../devkit/simulator/fleet';
import type { LocalTemporal, RunningWorker } from '../../devkit/stack';
import type { CampaignStatus } from '../../src/domain/status';
import type { CampaignConfig } from '../../src/domain/types';
import { masterUpgrade } from '../../workflows';
import { runCiu, type CiuRun } from '../fixtures/ciu';
import { stackProfile, startFleetStack, type FleetStack } from '../fixtures/fleet-stack';
import { createTestImage } from '../fixtures/servers';
import { installQuietRuntime } from '../workflow/fake-activities';

const controllerLogin = { username: 'admin', password: 'e2e-Retry-pw' };
const image = createTestImage({
  imageType: '72xx',
  version: '6.4.0.0',
  build: 81234,
  payloadSize: 128 * 1024,
});
const [first, full, third, fourth] = ['127.63.1.1', '127.63.1.2', '127.63.1.3', '127.63.1.4'];

let temporal: LocalTemporal;
let worker: RunningWorker & { taskQueue: string };
let fleet: Fleet;
let stateDir: string;

let stack: FleetStack;

beforeAll(async () => {
  installQuietRuntime();
  stack = await startFleetStack('retry', image, controllerLogin, [
    {
      count: 4,
      subnet: '127.63.1.0/24',
      models: ['A7210'],
      version: '6.3.1.0',
      build: 40000,
      controller: { rebootDelayMs: 500, progressIntervalMs: 50 },
      faults: { [full]: { flashFull: true }, [fourth]: { flashFull: true } },
    },
  ]);
  ({ temporal, worker, stateDir } = stack);
  [fleet] = stack.fleets as [Fleet];
});

afterAll(() => stack?.stop());

/** `ciu …` in this process against the test's dev server; what it printed and its exit code. */
function ciu(...args: string[]): Promise<CiuRun> {
  return runCiu(['--address', temporal.dev.address, '--config-dir', join(stateDir, 'operator'), ...args]);
}

async function logOf(ip: string): Promise<string[]> {
  return fleet.controller(ip).log.tail(1000);
}

test('a completed campaign with failed controllers: faults cleared, `ciu upgrade target retry <ip>` and then the plain temporal CLI recipe upgrade them in the same campaign, attempts and causes kept, the others untouched', async () => {
  const campaign = `e2e-retry-${process.pid}`;
  const config: CampaignConfig = {
    inventory: fleet.inventory,
    targets: ['127.63.1.0/24'],
    // Without the pre-check the full flash fails the copy itself: a Failed controller with one attempt.
    profile: stackProfile(stack, image, { preChecks: false }),
  };
  const firstRun = await temporal.client.workflow.start(masterUpgrade, {
    taskQueue: worker.taskQueue,
    workflowId: campaign,
    args: [config],
  });
  const completed = await firstRun.result();
  const flashCause = 'FlashFull: not enough space on flash to store the image';
  expect(
    completed.controllers.map((c) => [c.ip, c.state, c.attempts, c.lastError?.slice(0, flashCause.length)]),
  ).toEqual([
    [first, 'upgraded', 1, undefined],
    [full, 'failed', 1, flashCause],
    [third, 'upgraded', 1, undefined],
    [fourth, 'failed', 1, flashCause],
  ]);
  const before = {
    [first]: await logOf(first),
    [third]: await logOf(third),
    [fourth]: await logOf(fourth),
  };

  // Nothing retryable selected: a clear answer, and no new run.
  const refused = await ciu('upgrade', 'target', 'retry', first, '--campaign', campaign);
  expect(refused.code).toBe(2);
  expect(refused.err).toBe(
    `ciu: nothing to retry in campaign ${campaign}: ${first} is Upgraded (only Failed, Pre-check failed, Rolled back, Purged controllers start again)\n`,
  );
  expect((await temporal.client.workflow.getHandle(campaign).describe()).runId).toBe(
    firstRun.firstExecutionRunId,
  );

  await fleet.controller(full).setFaults({ flashFull: false });
  const retried = await ciu('upgrade', 'target', 'retry', full, '--campaign', campaign);
  expect(retried.err).toBe('');
  expect(retried.code).toBe(0);
  expect(retried.out).toMatch(
    new RegExp(
      `^Campaign ${campaign} had completed \\(run ${firstRun.firstExecutionRunId}\\); run [0-9a-f-]+ retries ${full.replace(/\./g, '\\.')}, every other controller keeps its final state\\n$`,
    ),
  );
  const again = temporal.client.workflow.getHandle<typeof masterUpgrade>(campaign);
  expect((await again.result()).counts).toEqual({ upgraded: 3, failed: 1 });

  const shown = await ciu('show', 'upgrade', 'status', '--campaign', campaign, '--json');
  expect(shown.code).toBe(0);
  const status = JSON.parse(shown.out) as CampaignStatus;
  expect(status.state).toBe('completed');
  expect(
    status.controllers.map((c) => [
      c.ip,
      c.state,
      c.attempts,
      c.previousErrors?.map((e) => e.slice(0, 8 + flashCause.length)),
    ]),
  ).toEqual([
    [first, 'upgraded', 1, undefined],
    [full, 'upgraded', 2, [`Failed: ${flashCause}`]],
    [third, 'upgraded', 1, undefined],
    [fourth, 'failed', 1, undefined],
  ]);

  // The controllers' own logs: the retried one downloaded (once failed, once done) and reloaded once;
  // the ones already upgraded have not a line more than before the retry.
  const fullLog = await logOf(full);
  expect(fullLog.filter((l) => l.includes('Image download failed'))).toHaveLength(1);
  expect(fullLog.filter((l) => l.includes('Reload requested'))).toHaveLength(1);
  expect(fleet.controller(full).snapshot()).toMatchObject({ runningVersion: '6.4.0.0', runningPartition: 1 });
  for (const ip of [first, third, fourth]) expect(await logOf(ip)).toEqual(before[ip]);

  // The README's plain Temporal CLI recipe: the committed config and the result, then a new run.
  await fleet.controller(fourth).setFaults({ flashFull: false });
  const query = await temporalCli(
    'workflow',
    'query',
    '--workflow-id',
    campaign,
    '--type',
    'committedConfig',
    '-o',
    'json',
  );
  const result = await temporalCli('workflow', 'result', '--workflow-id', campaign, '-o', 'json');
  const configFile = join(stateDir, 'config.json');
  const retryFile = join(stateDir, 'retry.json');
  const noCarried = join(stateDir, 'no-carried.json');
  await writeFile(noCarried, 'null');
  await writeFile(
    configFile,
    JSON.stringify((JSON.parse(query) as { queryResult: unknown[] }).queryResult[0]),
  );
  await writeFile(
    retryFile,
    JSON.stringify({
      retry: { selectors: [fourth], previous: (JSON.parse(result) as { result: unknown }).result },
    }),
  );
  await temporalCli(
    'workflow',
    'start',
    '--type',
    'masterUpgrade',
    '--task-queue',
    worker.taskQueue,
    '--workflow-id',
    campaign,
    '--input-file',
    configFile,
    '--input-file',
    noCarried,
    '--input-file',
    retryFile,
  );
  const plain = await temporal.client.workflow.getHandle<typeof masterUpgrade>(campaign).result();
  expect(plain.controllers.map((c) => [c.ip, c.state, c.attempts, c.previousErrors?.length])).toEqual([
    [first, 'upgraded', 1, undefined],
    [full, 'upgraded', 2, 1],
    [third, 'upgraded', 1, undefined],
    [fourth, 'upgraded', 2, 1],
  ]);
  for (const ip of [first, third]) expect(await logOf(ip)).toEqual(before[ip]);
  expect((await logOf(fourth)).filter((l) => l.includes('Reload requested'))).toHaveLength(1);
});

/** The `temporal` CLI (as `ciu temporal`) against the test's dev server; fails the test unless it exits 0. */
async function temporalCli(...args: string[]): Promise<string> {
  const { code, out, err } = await runCiu(
    ['temporal', ...args, '--address', temporal.dev.address],
    process.env,
  );
  expect({ code, err }).toEqual({ code: 0, err: '' });
  return out;
}
