import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { masterUpgrade, type ControllerUpgradeInput } from '../../workflows';
import { withWorker } from '../fixtures/worker';
import { useTimeSkippingServer } from './time-skipping-server';
import { campaignConfig, controller, fakeActivities } from './fake-activities';

// Temporal starts a parent's children in no set order. A master that asked for every child of a
// batch at once saw the ones holding a download slot come up after the queued ones, and every
// download wait for them: the holders are now started first, the others once they are.
let env: TestWorkflowEnvironment;
useTimeSkippingServer((started) => (env = started));

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const childInput = (event: HistoryEvent) =>
  defaultPayloadConverter.fromPayload<ControllerUpgradeInput>(
    event.startChildWorkflowExecutionInitiatedEventAttributes?.input?.payloads?.[0] as Payload,
  );

test('the children starting with a download slot are started before the others are asked for', async () => {
  const { activities } = fakeActivities();
  const ips = Array.from({ length: 6 }, (_, i) => `10.0.9.${i + 1}`);
  // Room for twice max-downloads before their download: a first batch of two holders and two queued.
  const config = campaignConfig(
    ips.map((ip) => controller(ip)),
    { maxDownloads: 2 },
  );
  const { summary, events } = await withWorker(
    { connection: env.nativeConnection, activities },
    async (taskQueue) => {
      const handle = await env.client.workflow.start(masterUpgrade, {
        taskQueue,
        workflowId: `start-order-${taskQueue}`,
        args: [config, undefined, { searchAttributes: false }],
      });
      const summary = await handle.result();
      return { summary, events: (await handle.fetchHistory()).events ?? [] };
    },
  );
  expect(summary.counts).toEqual({ 'downloaded-reboot-required': 6 });
  const initiated = events.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
  const holders = initiated
    .filter((e) => childInput(e).downloadSlotGranted === true)
    .map((e) => Number(e.eventId));
  const queued = initiated
    .filter((e) => childInput(e).downloadSlotQueued === true)
    .map((e) => Number(e.eventId));
  expect(holders).toHaveLength(2);
  expect(queued.length).toBeGreaterThanOrEqual(2);
  const holdersUp = events
    .filter((e) => holders.includes(Number(e.childWorkflowExecutionStartedEventAttributes?.initiatedEventId)))
    .map((e) => Number(e.eventId));
  expect(holdersUp).toHaveLength(2);
  // Every queued child was asked for only after both holders had started.
  for (const id of queued) expect(id).toBeGreaterThan(Math.max(...holdersUp));
});
