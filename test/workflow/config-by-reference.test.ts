import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ConfigRef } from '../../src/domain/config-ref';
import type { CampaignConfig } from '../../src/domain/types';
import { commitConfigUpdate, committedConfigQuery, masterUpgrade } from '../../workflows';
import { eventually } from '../fixtures/eventually';
import { withWorker } from '../fixtures/worker';
import { campaignConfig, controller, fakeActivities } from './fake-activities';
import { useTimeSkippingServer } from './time-skipping-server';

// Commits by reference read their config through an activity first: a later commit waits for an
// earlier one, so the last config committed is the one in force, whichever reads faster.
let env: TestWorkflowEnvironment;
useTimeSkippingServer((started) => (env = started));

const fleet = (n: number) => Array.from({ length: n }, (_, i) => controller(`10.1.9.${i + 1}`));
const refOf = (name: string): ConfigRef => ({ sha256: name.repeat(64), bytes: 100 });

test('commits by reference take effect in the order they came, though the first one reads its config slowest', async () => {
  const configs = new Map<string, CampaignConfig>([
    [refOf('a').sha256, campaignConfig(fleet(4), {}, ['10.1.9.1'])],
    [refOf('b').sha256, campaignConfig(fleet(4), {}, ['10.1.9.1', '10.1.9.2'])],
    [refOf('c').sha256, campaignConfig(fleet(4), {}, ['10.1.9.1', '10.1.9.3'])],
  ]);
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const { activities, calls } = fakeActivities({
    loadCampaignConfig: async (ref) => {
      if (ref.sha256 === refOf('b').sha256) await new Promise((resolve) => setTimeout(resolve, 1_500));
      const config = configs.get(ref.sha256);
      if (!config) throw ApplicationFailure.nonRetryable('configRef.sha256: no such config', 'InvalidInput');
      return config;
    },
    downloadImage: async () => {
      await held;
      return { bytes: 1024 };
    },
  });
  try {
    await withWorker({ connection: env.nativeConnection, activities }, async (taskQueue) => {
      const handle = await env.client.workflow.start(masterUpgrade, {
        taskQueue,
        workflowId: `by-ref-order-${taskQueue}`,
        args: [{ configRef: refOf('a') }, undefined, { searchAttributes: false }],
      });
      try {
        const loads = () => calls.filter((c) => c.name === 'loadCampaignConfig').length;
        await eventually(async () => (await handle.query(committedConfigQuery)).targets.length === 1);
        const second = handle.executeUpdate(commitConfigUpdate, { args: [{ configRef: refOf('b') }] });
        await eventually(async () => loads() === 2, { what: 'the second config being read' });
        const third = handle.executeUpdate(commitConfigUpdate, { args: [{ configRef: refOf('c') }] });
        expect(await second).toMatchObject({ revision: 2, changed: true, added: ['10.1.9.2'] });
        expect(await third).toMatchObject({
          revision: 3,
          changed: true,
          added: ['10.1.9.3'],
          removed: ['10.1.9.2'],
        });
        expect((await handle.query(committedConfigQuery)).targets).toEqual(['10.1.9.1', '10.1.9.3']);
        // An unknown reference fails the commit, naming the field, and leaves the campaign as it was.
        const refused = (configRef: ConfigRef) =>
          handle.executeUpdate(commitConfigUpdate, { args: [{ configRef }] }).then(
            () => 'committed',
            (err: unknown) => (err as WorkflowUpdateFailedError).cause?.message,
          );
        expect(await refused(refOf('d'))).toBe('configRef.sha256: no such config');
        expect(await refused({ sha256: '../x', bytes: 1 })).toMatch(
          /^configRef\.sha256 must be 64 lowercase hex digits/,
        );
        expect((await handle.query(committedConfigQuery)).targets).toEqual(['10.1.9.1', '10.1.9.3']);
      } finally {
        release();
      }
      const summary = await handle.result();
      expect(summary.revision).toBe(3);
    });
  } finally {
    release();
  }
});
