import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ciuSearchAttributes } from '../../src/domain/search-attributes';
import { startTestDevServer, temporalCliPath } from '../fixtures/temporal';

// The embedded default server: real `temporal server start-dev`, a SQLite file that survives a
// restart, ciu's search attributes registered, and the plain `temporal` CLI seeing what we started.
const dir = mkdtempSync(join(tmpdir(), 'ciu-devserver-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function temporal(address: string, ...args: string[]): string {
  return execFileSync(temporalCliPath(), [...args, '--address', address], { encoding: 'utf8' });
}

test('a workflow started on the dev server is listed by `temporal workflow list`, also after a restart', async () => {
  const dbFile = join(dir, 'temporal.db');
  let server = await startTestDevServer({ dbFile });
  const workflowId = `ciu-devserver-${Date.now()}`;
  try {
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    // No worker polls this queue: the run stays open, which is all this test needs.
    await client.workflow.start('masterUpgrade', { taskQueue: 'ciu-devserver-test', workflowId, args: [] });
    await connection.close();

    const attributes = temporal(server.address, 'operator', 'search-attribute', 'list');
    for (const name of Object.keys(ciuSearchAttributes)) expect(attributes).toContain(name);
    expect(temporal(server.address, 'workflow', 'list')).toContain(workflowId);
  } finally {
    await server.stop();
  }

  server = await startTestDevServer({ dbFile });
  try {
    const described = temporal(
      server.address,
      'workflow',
      'describe',
      '--workflow-id',
      workflowId,
      '-o',
      'json',
    );
    expect(JSON.parse(described).workflowExecutionInfo.execution.workflowId).toBe(workflowId);
    expect(temporal(server.address, 'workflow', 'list')).toContain(workflowId);
  } finally {
    await server.stop();
  }
});
