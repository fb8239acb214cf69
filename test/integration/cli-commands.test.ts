import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import type { CampaignStatus } from '../../src/domain/status';
import { startMetricsServer } from '../../src/metrics';
import { startTestDevServer } from '../fixtures/temporal';
import { eventually } from '../fixtures/eventually';
import { runCiu, type CommandResult } from '../fixtures/processes';
import { startTestStack, type TestStack } from '../fixtures/stack';

// The ciu CLI as an operator runs it (bin/ciu.js in its own process), against a real dev server,
// worker, vsftpd and simulated controllers: stage, write memory, show status, purge.

describe('ciu commands end to end', () => {
  let stack: TestStack;
  let configDir: string;
  const ciu = (...args: string[]): Promise<CommandResult> => runCiu(stack.dev.address, configDir, args);
  const status = async (): Promise<CampaignStatus> => {
    const result = await ciu('show', 'upgrade', 'status', '--json');
    if (result.code !== 0) throw new Error(result.stderr);
    return JSON.parse(result.stdout) as CampaignStatus;
  };
  const stateOf = (s: CampaignStatus, ip: string) => s.controllers.find((c) => c.ip === ip)?.state;

  beforeAll(async () => {
    stack = await startTestStack({
      groups: [
        // .2 refuses every download and loops until purged.
        {
          subnet: '127.22.1.0/24',
          target: '127.22.1.0/24',
          count: 2,
          models: ['A7210'],
          runs: 'old',
          faults: { 1: { refuseDownloads: 1000 } },
        },
        {
          subnet: '127.22.2.0/24',
          target: '127.22.2.0/24',
          count: 1,
          models: ['A7005'],
          runs: 'old',
          faults: { 0: { flashFull: true } },
        },
        // Its download stalls mid-transfer: it stays downloading, with live bytes, until purged.
        {
          subnet: '127.22.3.0/24',
          target: '127.22.3.0/24',
          count: 1,
          models: ['A7210'],
          runs: 'old',
          faults: { 0: { stallDownloads: 1000 } },
        },
      ],
    });
    configDir = join(stack.dir, 'master');
  });
  afterAll(() => stack?.stop());

  it('stages, refuses an incomplete config by field, commits once, shows status, purges, and exits 3 for failed controllers', async () => {
    const fleetFile = join(stack.dir, 'fleet.yaml');
    writeFileSync(fleetFile, stringifyYaml(stack.env.config.inventory));
    expect(await ciu('inventory', 'import', fleetFile)).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('4 controllers imported'),
    });
    expect((await ciu('upgrade', 'campaign', 'cli-it')).code).toBe(0);
    const { host, port } = stack.env.ftp;
    const model = (name: string) =>
      ciu(
        'upgrade-profile',
        'model',
        name,
        'image-file',
        stack.env.images[name] as string,
        'server',
        `${host}:${port}`,
        'protocol',
        'ftp',
        'credentials',
        'demo-images',
        'version',
        '6.5.1.0',
        'build',
        '66000',
      );
    expect((await model('A7210')).code).toBe(0);
    for (const args of [
      ['autoboot'],
      ['max-downloads', '2'],
      ['retry-interval', '10m'],
      ['quick-try-backoff', '200ms'],
    ])
      expect((await ciu('upgrade-profile', ...args)).code).toBe(0);
    expect((await ciu('upgrade', 'target', 'add', '127.22.1.0/24')).code).toBe(0);
    expect((await ciu('upgrade', 'target', 'add', '127.22.2.0/24')).code).toBe(0);
    expect((await ciu('upgrade', 'target', 'add', '127.22.3.1')).code).toBe(0);

    const refused = await ciu('write', 'memory');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'profile.models.A7005 is missing: targets include A7005 controllers (127.22.2.1)',
    );
    expect((await ciu('show', 'upgrade', 'status')).code).toBe(4);

    expect((await model('A7005')).code).toBe(0);
    const committed = await ciu('write', 'memory');
    expect(committed).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^Campaign cli-it started \(run [0-9a-f-]+\): revision 1 \(unchanged\)/),
    });
    const again = await ciu('write', 'memory');
    expect(again).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^Campaign cli-it is running; config pushed: revision 1 \(unchanged\)/),
    });
    const runs = [];
    for await (const run of stack.client.workflow.list({ query: `WorkflowId = 'cli-it'` }))
      runs.push(run.runId);
    expect(runs).toHaveLength(1);
    // Room for a long replay of a large campaign's master: 30 s workflow tasks, not Temporal's 10.
    const started = await stack.client.workflow.getHandle('cli-it').describe();
    expect(Number(started.raw.executionConfig?.defaultWorkflowTaskTimeout?.seconds)).toBe(30);

    const settled = await eventually(
      async () => {
        const s = await status();
        const ok =
          stateOf(s, '127.22.1.1') === 'upgraded' &&
          stateOf(s, '127.22.1.2') === 'waiting-retry' &&
          stateOf(s, '127.22.2.1') === 'pre-check-failed' &&
          (s.controllers.find((c) => c.ip === '127.22.3.1')?.bytes ?? 0) > 0;
        return ok ? s : undefined;
      },
      { what: 'one upgraded, one waiting for retry, one pre-check failed, one stalled mid-download' },
    );
    expect(settled.controllers.find((c) => c.ip === '127.22.2.1')?.lastError).toMatch(/FlashFull/);

    // --wide: one line per controller, so each row reads on one line (wrapping: test/unit/cli-status-table.test.ts).
    const table = await ciu('show', 'upgrade', 'status', '--wide');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /127\.22\.1\.1 .*A7210 .*local .*6\.5\.1\.0 \(66000\) .*6\.5\.1\.0 \(66000\) .*Upgraded/,
    );
    expect(table.stdout).toMatch(/127\.22\.1\.2 .*Waiting for retry .*3 .*\(in 10m\) .*DownloadFailed/);
    expect(table.stdout).toMatch(
      /127\.22\.2\.1 .*Pre-check failed .*FlashFull: pre-check failed: 1\.0 KiB free on flash/,
    );
    expect(table.stdout).toMatch(/127\.22\.3\.1 .*Downloading attempt 1\/3 \d+%/);

    // Metrics: controllers per state come from the same search attributes the Web UI filters on.
    const server = await startMetricsServer(stack.metrics.registry, '127.0.0.1:0');
    try {
      const text = await (await fetch(`http://${server.address}/metrics`)).text();
      expect(text).toMatch(/^ciu_controllers\{state="upgraded"\} 1$/m);
      expect(text).toMatch(/^ciu_controllers\{state="waiting-retry"\} 1$/m);
      expect(text).toMatch(/^ciu_controllers\{state="pre-check-failed"\} 1$/m);
      expect(text).toMatch(/^ciu_controllers\{state="downloading"\} 1$/m);
      // Download counters come from the worker's activity interceptor, per model and failure type.
      expect(text).toMatch(/^ciu_downloads_succeeded_total\{model="A7210"\} 1$/m);
      expect(text).toMatch(/^ciu_downloads_failed_total\{model="[^"]+",type="DownloadFailed"\} 3$/m);
      expect(text).toMatch(/^ciu_download_bytes_total\{model="A7210"\} [1-9]\d*$/m);
    } finally {
      await server.close();
    }

    // Purge one waiting for its retry window and one in the middle of a download.
    const purge = await ciu('upgrade', 'target', 'purge', '127.22.1.2', '127.22.3.0/24');
    expect(purge).toMatchObject({
      code: 0,
      stdout: 'Campaign cli-it: purged 127.22.1.2, 127.22.3.1\n',
    });
    const watched = await ciu('show', 'upgrade', 'status', '--watch', '--interval', '0.5', '--exit-status');
    expect(watched.code).toBe(3);
    expect(watched.stderr).toContain('campaign cli-it has failed controllers');
    const last = watched.stdout.slice(watched.stdout.lastIndexOf('Campaign cli-it'));
    expect(last).toMatch(/^Campaign cli-it — completed/);
    expect(last).toMatch(/127\.22\.1\.2 .*Purged/);
    expect(last).toMatch(/127\.22\.3\.1 .*Purged/);
    expect(last).toContain('1 Upgraded, 1 Pre-check failed, 2 Purged');

    const config = await ciu('show', 'upgrade', 'config', '--committed', '--json');
    expect(JSON.parse(config.stdout)).toMatchObject({
      campaign: 'cli-it',
      config: { targets: ['127.22.1.0/24', '127.22.2.0/24', '127.22.3.1'] },
    });
    expect(config.stdout).not.toContain('password');
  });
});

describe('ciu write memory without a worker', () => {
  it('starts the campaign but says no worker answered, exit 1, instead of hanging; a purge too', async () => {
    const dev = await startTestDevServer();
    const dir = mkdtempSync(join(tmpdir(), 'ciu-noworker-'));
    const ciu = (...args: string[]): Promise<CommandResult> => runCiu(dev.address, dir, args);
    try {
      const hostKey = `SHA256:${'A'.repeat(43)}`;
      await ciu(
        'inventory',
        'add',
        '127.22.9.1',
        'model',
        'A7210',
        'role',
        'local',
        'credentials',
        'admin',
        'host-key',
        hostKey,
      );
      await ciu(
        'upgrade-profile',
        'model',
        'A7210',
        'image-file',
        'img',
        'server',
        '127.0.0.1',
        'protocol',
        'ftp',
      );
      await ciu('upgrade', 'target', 'add', 'all');
      const started = Date.now();
      const result = await ciu('write', 'memory', '--timeout', '2');
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        'campaign ciu was started, but nothing answered the commitConfig update within 2s',
      );
      expect(result.stderr).toContain('`ciu worker`');
      expect(Date.now() - started).toBeLessThan(20_000);

      // The purge Update of the started campaign is answered by nobody either: a bounded wait, then why.
      const purgeStarted = Date.now();
      const purge = await ciu('upgrade', 'target', 'purge', '127.22.9.1', '--timeout', '2');
      expect(purge).toMatchObject({ code: 1, stdout: '' });
      expect(purge.stderr).toContain(
        'campaign ciu: no worker answered within 2 s; is a worker polling task queue ciu?',
      );
      expect(Date.now() - purgeStarted).toBeLessThan(20_000);
    } finally {
      await dev.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
