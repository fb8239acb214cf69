import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { installQuietRuntime } from './fake-activities';
import { historyFromCliJson } from './saved-history';
import { workflowBundle } from '../fixtures/worker';

// Replays saved histories of real runs (master with children, verification failure, purge, a child
// that continued as new) against today's workflow code: a change that would break running
// workflows fails here. Refresh with `npx tsx test/fixtures/histories/refresh.ts`.
const dir = join(__dirname, '..', 'fixtures', 'histories');

interface SavedHistory {
  workflowId: string;
  runId: string;
  history: unknown;
}

const saved: SavedHistory[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as SavedHistory);

beforeAll(() => installQuietRuntime());

test('the saved histories cover both workflow types and the interesting endings', () => {
  const types = saved.map((s) => JSON.stringify(s.history)).join('\n');
  expect(types).toContain('"name":"masterUpgrade"');
  expect(types).toContain('"name":"controllerUpgrade"');
  expect(types).toContain('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
  expect(types).toContain('"signalName":"purgeTargets"');
  expect(saved.map((s) => s.workflowId)).toEqual(
    expect.arrayContaining([
      'replay-upgrade',
      'replay-upgrade/10.1.4.2',
      'replay-purge',
      'replay-verification-failed',
    ]),
  );
});

test('every saved history replays without non-determinism', async () => {
  const histories = saved.map((s) => ({ workflowId: s.workflowId, history: historyFromCliJson(s.history) }));
  const results = Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories);
  const outcomes: Array<{ workflowId: string; error?: string }> = [];
  for await (const result of results)
    outcomes.push({ workflowId: result.workflowId, error: result.error?.message });
  expect(outcomes).toHaveLength(saved.length);
  expect(outcomes.filter((o) => o.error)).toEqual([]);
});
