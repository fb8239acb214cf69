import { Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTimeSkippingEnv } from '../fixtures/temporal';
import { fifteenMinuteTimer } from './workflows/durable-timer';

// The harness every workflow test relies on: the installed time-skipping server, and workflow code
// bundled once per file.
let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./workflows/durable-timer'),
    logger: quietLogger(),
  });
});

afterAll(async () => {
  await env?.teardown();
});

function quietLogger() {
  const noop = () => undefined;
  return { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };
}

test('a 15-minute durable timer completes at once and the server clock moves 15 minutes', async () => {
  const taskQueue = `tq-${Date.now()}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle });
  const before = await env.currentTimeMs();
  const wallStart = Date.now();
  const result = await worker.runUntil(
    env.client.workflow.execute(fifteenMinuteTimer, { taskQueue, workflowId: `timer-${Date.now()}` }),
  );
  expect(result).toBe('woke');
  expect((await env.currentTimeMs()) - before).toBeGreaterThanOrEqual(15 * 60 * 1000);
  expect(Date.now() - wallStart).toBeLessThan(60 * 1000);
});
