/**
 * Redundancy-aware reboots and the health post-check end to end: a real Temporal dev server, a real
 * Worker with the real activities, a real vsftpd, and simulated controllers over real SSH. A
 * standby/active pair reloads one after the other, the standby first — the controllers' own logs
 * prove the order — and a controller whose own `show switches` reports a failed configuration after
 * its upgrade is booted back into its old image.
 */
import type { Fleet } from '../../devkit/simulator/fleet';
import type { LocalTemporal, RunningWorker } from '../../devkit/stack';
import type { CampaignConfig } from '../../src/domain/types';
import { masterUpgrade } from '../../workflows';
import { stackProfile, startFleetStack, type FleetStack } from '../fixtures/fleet-stack';
import { createTestImage } from '../fixtures/servers';
import { installQuietRuntime } from '../workflow/fake-activities';

const controllerLogin = { username: 'admin', password: 'e2e-Redundancy-pw' };
const image = createTestImage({
  imageType: '72xx',
  version: '6.4.0.0',
  build: 81234,
  payloadSize: 128 * 1024,
});
const [active, standby, unhealthy] = ['127.62.1.1', '127.62.1.2', '127.62.1.3'];

let temporal: LocalTemporal;
let worker: RunningWorker & { taskQueue: string };
let fleet: Fleet;

let stack: FleetStack;

beforeAll(async () => {
  installQuietRuntime();
  stack = await startFleetStack('redundancy', image, controllerLogin, [
    {
      count: 3,
      subnet: '127.62.1.0/24',
      models: ['A7210'],
      version: '6.3.1.0',
      build: 40000,
      // Down 2 s per reload: long enough that two overlapping reloads would show in the logs.
      controller: { rebootDelayMs: 2000, progressIntervalMs: 50 },
      faults: { [unhealthy]: { unhealthyAfterUpgrade: true } },
    },
  ]);
  ({ temporal, worker } = stack);
  [fleet] = stack.fleets as [Fleet];
});

afterAll(() => stack?.stop());

/** When the controller's own log has `text`, each time (ISO times from its log lines). */
async function logged(ip: string, text: string): Promise<number[]> {
  const lines = await fleet.controller(ip).log.tail(500);
  return lines.filter((l) => l.includes(text)).map((l) => Date.parse(l.split(' ')[0] ?? ''));
}

test('a grouped pair reloads one at a time, the standby first; an unhealthy controller is rolled back', async () => {
  // The active is listed (and dispatched) first: the order comes from the roles, not the inventory.
  const roles: Record<string, { group: string; redundancy: 'active' | 'standby' }> = {
    [active]: { group: 'hq-pair', redundancy: 'active' },
    [standby]: { group: 'hq-pair', redundancy: 'standby' },
  };
  const config: CampaignConfig = {
    inventory: fleet.inventory.map((c) => ({ ...c, ...roles[c.ip] })),
    targets: ['127.62.1.0/24'],
    profile: stackProfile(stack, image, { fallback: true }),
  };
  const summary = await temporal.client.workflow.execute(masterUpgrade, {
    taskQueue: worker.taskQueue,
    workflowId: `e2e-redundancy-${process.pid}`,
    args: [config],
  });
  const states = Object.fromEntries(summary.controllers.map((c) => [c.ip, c.state]));
  expect(states).toEqual({ [active]: 'upgraded', [standby]: 'upgraded', [unhealthy]: 'rolled-back' });

  // The controllers' own logs: one reload each for the pair, the active's only after the standby booted again.
  const [standbyReload] = await logged(standby, 'Reload requested');
  const [standbyBooted] = await logged(standby, 'System booted');
  const activeReloads = await logged(active, 'Reload requested');
  expect(activeReloads).toHaveLength(1);
  expect(standbyReload).toBeLessThan(standbyBooted!);
  expect(activeReloads[0]).toBeGreaterThanOrEqual(standbyBooted!);
  for (const ip of [active, standby])
    expect(fleet.controller(ip).snapshot()).toMatchObject({ runningVersion: '6.4.0.0', runningPartition: 1 });

  // Its own health view failed the post-check; fallback booted the old image back.
  expect(summary.controllers.find((c) => c.ip === unhealthy)?.lastError).toBe(
    'PostCheckFailed: post-check failed: show switches: Configuration State UPDATE FAILED; rolled back to partition 0 (6.3.1.0 build 40000)',
  );
  expect(fleet.controller(unhealthy).snapshot()).toMatchObject({
    runningVersion: '6.3.1.0',
    runningPartition: 0,
  });
  expect(await logged(unhealthy, 'Reload requested')).toHaveLength(2);
});
