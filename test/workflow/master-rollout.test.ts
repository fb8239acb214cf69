import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  commitConfigUpdate,
  controllerWorkflowId,
  masterUpgrade,
  upgradePlanQuery,
  upgradeStatusQuery,
} from '../../workflows';
import type { Controller } from '../../src/domain/types';
import { eventually } from '../fixtures/eventually';
import { withWorker } from '../fixtures/worker';
import { useTimeSkippingServer } from './time-skipping-server';
import { campaignConfig, controller, factsFor, fakeActivities, targetImage } from './fake-activities';

// A master and its children under the time-skipping server: a redundancy pair reboots one at a time,
// the standby first, however the requests arrive; a commit's new reboot window reaches a waiting child.
let env: TestWorkflowEnvironment;
useTimeSkippingServer((started) => (env = started));

const member = (ip: string, redundancy: 'active' | 'standby', group = 'hq'): Controller => ({
  ...controller(ip),
  group,
  redundancy,
});

test('a standby/active pair is never down together: the standby reboots first, the active waits visibly', async () => {
  const reboots: Array<{ ip: string; phase: 'start' | 'end' }> = [];
  let releaseStandby: () => void = () => undefined;
  const standbyHeld = new Promise<void>((resolve) => (releaseStandby = resolve));
  const rebooted = new Set<string>();
  const { activities } = fakeActivities({
    inspectController: async (c) =>
      rebooted.has(c.ip) ? factsFor(targetImage.version, targetImage.build) : factsFor(),
    rebootController: async ({ controller: c }) => {
      reboots.push({ ip: c.ip, phase: 'start' });
      if (c.ip === '10.0.0.2') await standbyHeld;
      rebooted.add(c.ip);
      reboots.push({ ip: c.ip, phase: 'end' });
    },
  });
  // The active is listed (and dispatched) first; an ungrouped controller reboots whenever it likes.
  const config = campaignConfig(
    [member('10.0.0.1', 'active'), member('10.0.0.2', 'standby'), controller('10.0.0.3')],
    { autoboot: true },
  );
  const summary = await withWorker({ connection: env.nativeConnection, activities }, async (taskQueue) => {
    const handle = await env.client.workflow.start(masterUpgrade, {
      taskQueue,
      workflowId: `redundancy-${taskQueue}`,
      args: [config, undefined, { searchAttributes: false }],
    });
    let last = '';
    const status = await eventually(
      async () => {
        const s = await handle.query(upgradeStatusQuery);
        last = JSON.stringify(s.controllers.map((c) => [c.ip, c.state]));
        const state = (ip: string) => s.controllers.find((c) => c.ip === ip)?.state;
        // The ungrouped one is not held by the pair: it ends upgraded while the standby still reboots.
        return (
          state('10.0.0.1') === 'waiting-peer' &&
          state('10.0.0.2') === 'rebooting' &&
          state('10.0.0.3') === 'upgraded' &&
          s
        );
      },
      { timeoutMs: 30_000, what: () => `the active waiting for its rebooting standby; last ${last}` },
    ).finally(releaseStandby);
    expect(status.controllers.find((c) => c.ip === '10.0.0.2')?.state).toBe('rebooting');
    expect(reboots.filter((r) => r.ip === '10.0.0.1')).toEqual([]);
    // What holds the active, in the status and the master's Web UI details; each child's summary names its group.
    expect(status.controllers.map((c) => [c.ip, c.group, c.rebootHold?.text])).toEqual([
      ['10.0.0.1', 'hq', '10.0.0.2 of group hq is rebooting'],
      ['10.0.0.2', 'hq', undefined],
      ['10.0.0.3', undefined, undefined],
    ]);
    const { currentDetails } = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
    expect(currentDetails).toContain('Redundancy groups: hq 0/2 final');
    expect(currentDetails).toContain(
      'Waiting for a reboot permit: 10.0.0.1: 10.0.0.2 of group hq is rebooting',
    );
    const child = (ip: string) => env.client.workflow.getHandle(controllerWorkflowId(handle.workflowId, ip));
    expect(await (await child('10.0.0.1').describe()).staticSummary()).toBe(
      '10.0.0.1 A7210 → 6.4.0.0 build 81234 · group hq (active)',
    );
    expect(await (await child('10.0.0.3').describe()).staticSummary()).toBe(
      '10.0.0.3 A7210 → 6.4.0.0 build 81234',
    );
    const childDetails = await child('10.0.0.1').query<{ currentDetails: string }>(
      '__temporal_workflow_metadata',
    );
    expect(childDetails.currentDetails).toContain(
      'redundancy group hq (active): its members reboot one at a time',
    );
    const plan = await handle.query(upgradePlanQuery);
    expect(plan.controllers.map((c) => [c.ip, c.group, c.redundancy])).toEqual([
      ['10.0.0.1', 'hq', 'active'],
      ['10.0.0.2', 'hq', 'standby'],
      ['10.0.0.3', undefined, undefined],
    ]);
    return handle.result();
  });
  expect(summary.counts).toEqual({ upgraded: 3 });
  const pair = reboots.filter((r) => r.ip !== '10.0.0.3');
  expect(pair).toEqual([
    { ip: '10.0.0.2', phase: 'start' },
    { ip: '10.0.0.2', phase: 'end' },
    { ip: '10.0.0.1', phase: 'start' },
    { ip: '10.0.0.1', phase: 'end' },
  ]);
});

test('a committed new reboot window re-arms a child already waiting for the old one', async () => {
  const { activities, calls } = fakeActivities();
  const start = await env.currentTimeMs();
  const day = 24 * 3_600_000;
  const oldWindow = {
    from: new Date(start + 3 * day).toISOString(),
    until: new Date(start + 3 * day + 3_600_000).toISOString(),
  };
  const config = campaignConfig([controller('10.0.0.7')], { autoboot: true, rebootWindow: oldWindow });
  const result = await withWorker({ connection: env.nativeConnection, activities }, async (taskQueue) => {
    const handle = await env.client.workflow.start(masterUpgrade, {
      taskQueue,
      workflowId: `timing-${taskQueue}`,
      args: [config, undefined, { searchAttributes: false }],
    });
    // Not awaiting the result yet, so no time is skipped: the child waits for the old window.
    await eventually(
      async () => {
        const s = await handle.query(upgradeStatusQuery);
        const c = s.controllers[0];
        return c?.state === 'waiting-window' && c.windowOpensAt === oldWindow.from;
      },
      { timeoutMs: 30_000, what: 'the child waiting for the reboot window three days out' },
    );
    const now = await env.currentTimeMs();
    const newWindow = {
      from: new Date(now - 3_600_000).toISOString(),
      until: new Date(now + 2 * 3_600_000).toISOString(),
    };
    const commit = await handle.executeUpdate(commitConfigUpdate, {
      args: [{ ...config, profile: { ...config.profile, rebootWindow: newWindow } }],
    });
    expect(commit.changed).toBe(true);
    return handle.result();
  });
  expect(result.counts).toEqual({ upgraded: 1 });
  const rebootAt = calls.find((c) => c.name === 'rebootController')!.at;
  expect(rebootAt).toBeLessThan(start + 2 * 3_600_000);
});
