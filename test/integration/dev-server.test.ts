import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ciuSearchAttributes } from '../../src/domain/search-attributes';
import { eventually } from '../fixtures/eventually';
import { accepts, killHard, running } from '../fixtures/processes';
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

/** Whether the dev server's frontend at host:port accepts connections. */
function answers(address: string): Promise<boolean> {
  const [host, port] = address.split(':') as [string, string];
  return accepts(host, Number(port));
}

/** A process of its own that starts a dev server the way `ciu start` does (pid file in its config dir). */
async function ownerOfDevServer(dbFile: string, pidFile: string) {
  const owner = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `require('./devkit/temporal/dev-server').startDevServer(${JSON.stringify({ dbFile, pidFile, uiPort: false })}).then((s) => console.log(JSON.stringify({ pid: s.process.pid, address: s.address })))`,
    ],
    { cwd: join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  owner.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  const server = await eventually(
    async () => (output.includes('}') ? (JSON.parse(output) as { pid: number; address: string }) : undefined),
    { what: 'the dev server of the child process', timeoutMs: 60_000 },
  );
  return { owner, server };
}

test('a SIGKILLed process takes the dev server it started along within seconds (watchdog)', async () => {
  const { owner, server } = await ownerOfDevServer(join(dir, 'watchdog.db'), join(dir, 'watchdog.pid'));
  expect(await answers(server.address)).toBe(true);
  const killedAt = Date.now();
  await killHard(owner);
  await eventually(async () => !running(server.pid) && !(await answers(server.address)), {
    what: `the dev server (pid ${server.pid}) gone and ${server.address} free`,
    timeoutMs: 10_000,
  });
  expect(Date.now() - killedAt).toBeLessThan(6_000);
});

test('a dev server left running (its watchdog killed too) is ended by the next start on the same file', async () => {
  const dbFile = join(dir, 'leftover.db');
  const pidFile = join(dir, 'leftover.pid');
  const { owner, server } = await ownerOfDevServer(dbFile, pidFile);
  expect(JSON.parse(readFileSync(pidFile, 'utf8'))).toEqual({ pid: server.pid, dbFile });
  // Everything the owner started but the server itself: what a `kill -9` of all but one leaves.
  const watchdogs = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(owner.pid)], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter((line) => line.includes('ciu-watchdog'))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
  expect(watchdogs).toHaveLength(1);
  process.kill(watchdogs[0]!, 'SIGKILL');
  await killHard(owner);
  await new Promise((r) => setTimeout(r, 1000));
  expect(running(server.pid)).toBe(true);

  const next = await startTestDevServer({ dbFile, pidFile, uiPort: false });
  try {
    expect(running(server.pid)).toBe(false);
    expect(JSON.parse(readFileSync(pidFile, 'utf8'))).toEqual({ pid: next.process.pid, dbFile });
  } finally {
    await next.stop();
  }
  expect(existsSync(pidFile)).toBe(false);
});
