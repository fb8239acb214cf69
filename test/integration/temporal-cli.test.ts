import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CampaignStatus } from '../../src/domain/status';
import { temporalCliPath } from '../../devkit/temporal/binaries';
import { eventually } from '../fixtures/eventually';
import { startTestStack, type TestStack } from '../fixtures/stack';

// The plain Temporal tools drive ciu without the ciu CLI: start a campaign from a JSON input file,
// query its status, purge by signal, list controllers by search attribute.
const run = promisify(execFile);

describe('the temporal CLI against ciu (real dev server, worker, vsftpd, simulated controllers)', () => {
  let stack: TestStack;
  const temporal = async (...args: string[]) => {
    const { stdout } = await run(temporalCliPath(), [...args, '--address', stack.dev.address]);
    return stdout;
  };
  const status = async (id: string): Promise<CampaignStatus> => {
    const out = JSON.parse(
      await temporal('workflow', 'query', '--workflow-id', id, '--type', 'upgradeStatus', '--output', 'json'),
    ) as {
      queryResult: [CampaignStatus];
    };
    return out.queryResult[0];
  };
  const stateOf = (s: CampaignStatus, ip: string) => s.controllers.find((c) => c.ip === ip)?.state;

  beforeAll(async () => {
    stack = await startTestStack({
      groups: [
        { subnet: '127.21.1.0/24', target: '127.21.1.0/24', count: 2, models: ['A7210'], runs: 'old' },
        // Both refuse every download: they loop (3 quick tries, then the retry window) until purged.
        {
          subnet: '127.21.2.0/24',
          target: '127.21.2.0/24',
          count: 2,
          models: ['A7005'],
          runs: 'old',
          faults: { 0: { refuseDownloads: 1000 }, 1: { refuseDownloads: 1000 } },
        },
      ],
      retryInterval: '10m',
    });
  });
  afterAll(() => stack?.stop());

  it('starts with --input-file, answers upgradeStatus, purges by signal and lists by search attribute', async () => {
    const inputFile = join(stack.dir, 'upgrade.json');
    writeFileSync(inputFile, JSON.stringify(stack.env.config));
    const id = 'tcli-campaign';
    await temporal(
      'workflow',
      'start',
      '--type',
      'masterUpgrade',
      '--task-queue',
      'ciu',
      '--workflow-id',
      id,
      '--input-file',
      inputFile,
    );

    const looping = await eventually(
      async () => {
        const s = await status(id);
        const upgraded = ['127.21.1.1', '127.21.1.2'].every((ip) => stateOf(s, ip) === 'upgraded');
        const waiting = ['127.21.2.1', '127.21.2.2'].every((ip) => stateOf(s, ip) === 'waiting-retry');
        return upgraded && waiting ? s : undefined;
      },
      { what: 'two upgraded and two waiting for retry' },
    );
    const waiting = looping.controllers.find((c) => c.ip === '127.21.2.1');
    expect(waiting).toMatchObject({ attempts: 3, model: 'A7005' });
    expect(waiting?.lastError).toMatch(/DownloadFailed/);
    expect(Date.parse(waiting?.nextRetryAt ?? '')).toBeGreaterThan(Date.now() + 5 * 60_000);

    const listed = await temporal(
      'workflow',
      'list',
      '--query',
      `CiuCampaign="${id}" AND CiuState="waiting-retry"`,
      '--output',
      'json',
    );
    expect(
      (JSON.parse(listed) as Array<{ execution: { workflowId: string } }>)
        .map((w) => w.execution.workflowId)
        .sort(),
    ).toEqual([`${id}/127.21.2.1`, `${id}/127.21.2.2`]);

    await temporal(
      'workflow',
      'signal',
      '--workflow-id',
      id,
      '--name',
      'purgeTargets',
      '--input',
      '"127.21.2.0/24"',
    );
    const purged = await eventually(
      async () => {
        const s = await status(id);
        return s.phase === 'completed' ? s : undefined;
      },
      { what: 'the campaign to complete after the purge' },
    );
    expect(purged.controllers.map((c) => [c.ip, c.state])).toEqual([
      ['127.21.1.1', 'upgraded'],
      ['127.21.1.2', 'upgraded'],
      ['127.21.2.1', 'purged'],
      ['127.21.2.2', 'purged'],
    ]);
    const description = JSON.parse(
      await temporal('workflow', 'describe', '--workflow-id', id, '--output', 'json'),
    ) as {
      workflowExecutionInfo: { status: string };
    };
    expect(description.workflowExecutionInfo.status).toMatch(/COMPLETED/);
    expect(stack.env.fleets[1]?.controller('127.21.2.1').snapshot().runningVersion).toBe('6.4.4.0');
    expect(stack.env.fleets[0]?.controller('127.21.1.1').snapshot().runningVersion).toBe('6.5.1.0');
  });
});
