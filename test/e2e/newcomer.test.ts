import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../devkit/temporal/free-port';
import { screenshotTerminal } from '../fixtures/terminal-screenshot';

// A newcomer's first half hour, scripted: a fresh clone, the README's two set-up commands, `npm start` in
// a real terminal (tmux), Prometheus scraping the demo's worker with ciu's alerting rules, then every
// command the demo prints to try next. To keep it quick the clone reuses this checkout's node_modules
// and .tools (what `npm install` would fetch again), and `npm run build` stands in for `npm install`'s
// own `prepare` step. The terminal is kept in test-artifacts/: newcomer-terminal.txt (the whole text),
// and as the operator saw it, rendered by chromium, newcomer-terminal-live.png (downloads in flight)
// and newcomer-terminal.png (every end state).
const repo = join(__dirname, '../..');
const artifacts = join(repo, 'test-artifacts');
const tmux = ['-L', `ciu-newcomer-${process.pid}`];

let work: string;
let clone: string;
let prometheus: ChildProcess | undefined;
let tmuxStarted = false;

function pane(): string {
  return execFileSync('tmux', [...tmux, 'capture-pane', '-p', '-J', '-S', '-', '-t', 'demo'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The screen as the operator sees it right now: the visible lines, with their colours and attributes. */
function screen(): string {
  return execFileSync('tmux', [...tmux, 'capture-pane', '-p', '-e', '-t', 'demo'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** A download's progress bar in the live table, `[###-------]` (its bytes may wrap below it). */
const progressBar = /\[[#-]{10}\]/;
/** What a log record on the terminal would look like (pino JSON or pretty, webpack's bundle report). */
const logRecord = /"level":|\bINFO\b|\bWARN\b|webpack|asset workflow-bundle/;

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 180_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await Promise.resolve()
      .then(probe)
      .catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(
        `no ${what} within ${ms / 1000}s; terminal:\n${tmuxStarted ? pane().slice(-3000) : ''}`,
      );
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The lines of the README's fenced block that follows the paragraph starting with `intro`. */
function readmeBlock(intro: string): string[] {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const after = readme.slice(readme.indexOf(intro));
  const block = /```[a-z]*\n([\s\S]*?)```/.exec(after);
  if (!readme.includes(intro) || !block) throw new Error(`README has no block after "${intro}"`);
  return block[1]!.trimEnd().split('\n');
}

/** `line` run in the clone as a newcomer's shell runs it, with no `temporal` or `ciu` on PATH. */
function shell(line: string) {
  return spawnSync('bash', ['-c', line], {
    cwd: clone,
    encoding: 'utf8',
    env: { ...process.env, PATH: `/usr/local/bin:/usr/bin:/bin` },
  });
}

async function promQuery(
  port: number,
  query: string,
): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await res.json()) as {
    status: string;
    data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  if (body.status !== 'success') throw new Error(`prometheus: ${JSON.stringify(body)}`);
  return body.data.result;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'ciu-newcomer-'));
  clone = join(work, 'ciu');
  execFileSync('git', ['clone', '--quiet', repo, clone]);
  symlinkSync(join(repo, 'node_modules'), join(clone, 'node_modules'));
  mkdirSync(join(clone, '.tools'));
  symlinkSync(join(repo, '.tools/venv'), join(clone, '.tools/venv'));
  mkdirSync(artifacts, { recursive: true });
});

afterAll(async () => {
  if (tmuxStarted) {
    const running = spawnSync('tmux', [...tmux, 'has-session', '-t', 'demo']).status === 0;
    if (running && !/demo exited \d+/.test(pane())) {
      // After a failure midway, Ctrl-C still lets the demo stop what it started before tmux goes.
      spawnSync('tmux', [...tmux, 'send-keys', '-t', 'demo', 'C-c']);
      await until('demo exit', () => (/demo exited \d+/.test(pane()) ? true : undefined), 60_000).catch(
        () => undefined,
      );
    }
    spawnSync('tmux', [...tmux, 'kill-server']);
  }
  if (prometheus && prometheus.exitCode === null) {
    prometheus.kill('SIGTERM');
    await new Promise((r) => prometheus?.once('exit', r));
  }
  rmSync(work, { recursive: true, force: true });
});

it('fresh clone → npm start in a terminal → Prometheus sees the campaign → every printed command works', async () => {
  const build = spawnSync('npm', ['run', 'build'], { cwd: clone, encoding: 'utf8' });
  expect(build.status).toBe(0);

  const [frontend, ui, metrics, sdkMetrics, prom] = (await Promise.all(
    Array.from({ length: 5 }, () => freePort()),
  )) as [number, number, number, number, number];
  writeFileSync(
    join(work, 'prometheus.yml'),
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      `rule_files: ['${join(clone, 'deploy/prometheus/ciu-alerts.yml')}']`,
      'scrape_configs:',
      `  - job_name: ciu-worker`,
      `    static_configs: [{ targets: ['127.0.0.1:${metrics}', '127.0.0.1:${sdkMetrics}'] }]`,
    ].join('\n'),
  );
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${join(work, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(work, 'prometheus-data')}`,
      `--web.listen-address=127.0.0.1:${prom}`,
    ],
    { stdio: 'ignore' },
  );

  // Temporal and the metrics on free ports (7233 and 9464/9465 may be in use on a developer's machine);
  // the demo fleet on its default ports (22, and 21 on 127.21.0.21), which examples/upgrade.json names.
  const start = `npm start -- --port ${frontend} --ui-port ${ui} --metrics 127.0.0.1:${metrics} --sdk-metrics 127.0.0.1:${sdkMetrics}`;
  const address = `--address 127.0.0.1:${frontend}`;
  execFileSync('tmux', [
    ...tmux,
    'new-session',
    '-d',
    '-s',
    'demo',
    '-x',
    '120',
    '-y',
    '50',
    '-c',
    clone,
    // The shell outlives the Ctrl-C it passes on to npm start, to report how the demo ended.
    `trap : INT; ${start}; echo "demo exited $?"; sleep 600`,
  ]);
  tmuxStarted = true;

  // Watched as the operator watches it: the first screen with a download's progress bar is kept.
  let live: string | undefined;
  const terminal = await until('end state', () => {
    if (live === undefined) {
      const shown = screen();
      // eslint-disable-next-line no-control-regex
      if (progressBar.test(shown.replace(/\x1b\[[0-9;]*m/g, ''))) live = shown;
    }
    const text = pane();
    return text.includes('Every controller has its end state') ? text : undefined;
  });
  const ended = screen();
  writeFileSync(join(artifacts, 'newcomer-terminal.txt'), terminal);

  // The screenshots show the live table (drawn once, a progress bar per download in flight, the counts),
  // then the end states, and never a log record.
  expect(live).toBeDefined();
  const liveShot = await screenshotTerminal(live!, join(artifacts, 'newcomer-terminal-live.png'));
  expect(liveShot.width).toBeGreaterThan(120 * 7);
  expect(liveShot.text.match(/│ IP /g)).toHaveLength(1);
  expect(liveShot.text).toMatch(/│ Progress/);
  expect(liveShot.text).toMatch(progressBar);
  expect(liveShot.text).toMatch(/[\d.]+ (?:B|KiB|MiB) of\s/);
  expect(liveShot.text).toMatch(/attempt \d\/3/);
  expect(liveShot.text).toMatch(/\b\d+ Downloading\b/);
  expect(liveShot.text).not.toMatch(logRecord);
  const endShot = await screenshotTerminal(ended, join(artifacts, 'newcomer-terminal.png'));
  expect(endShot.text).toMatch(/\d+ Upgraded.*1 Up-to-date, 1 Pre-check failed, 1 Not part of target/);
  expect(endShot.text).toContain('Every controller has its end state');
  expect(endShot.text).not.toMatch(logRecord);

  // The terminal is the operator's: the table drawn once and redrawn in place, no log records.
  expect(terminal).toMatch(/Logs: \S+ciu-start\.log/);
  expect(terminal.match(/│ IP /g)).toHaveLength(1);
  expect(terminal).toMatch(/\d+ Upgraded.*1 Up-to-date, 1 Pre-check failed, 1 Not part of target/);
  expect(terminal).not.toMatch(logRecord);
  const logFile = /Logs: (\S+ciu-start\.log)/.exec(terminal)![1]!;
  expect(readFileSync(resolve(clone, logFile), 'utf8')).toMatch(/"msg":/);

  // Prometheus scraped the worker during the campaign; the rules evaluate on its series.
  const upgraded = await until('ciu_controllers{state="upgraded"} in Prometheus', async () => {
    const [sample] = await promQuery(prom, 'ciu_controllers{state="upgraded"}');
    return sample && Number(sample.value[1]) >= 4 ? Number(sample.value[1]) : undefined;
  });
  expect(upgraded).toBeGreaterThanOrEqual(4);
  const started = await promQuery(prom, 'sum(ciu_downloads_started_total)');
  expect(Number(started[0]?.value[1])).toBeGreaterThanOrEqual(5);
  // The full flash is found by the pre-check, before any transfer: the only failed downloads are refused ones.
  const failed = await promQuery(prom, 'sum by (type) (ciu_downloads_failed_total)');
  expect(failed.map((s) => s.metric.type)).toEqual(['DownloadFailed']);
  const preCheckFailed = await until('ciu_controllers{state="pre-check-failed"} in Prometheus', async () => {
    const [sample] = await promQuery(prom, 'ciu_controllers{state="pre-check-failed"}');
    return sample && Number(sample.value[1]) === 1 ? 1 : undefined;
  });
  expect(preCheckFailed).toBe(1);
  const alerts = await until(
    'CiuControllersFailed pending',
    async () => {
      const res = (await (await fetch(`http://127.0.0.1:${prom}/api/v1/alerts`)).json()) as {
        data: { alerts: Array<{ labels: { alertname: string }; state: string }> };
      };
      const names = res.data.alerts.map((a) => a.labels.alertname);
      return names.includes('CiuControllersFailed') ? res.data.alerts : undefined;
    },
    60_000,
  );
  expect(alerts.find((a) => a.labels.alertname === 'CiuControllersFailed')?.state).toMatch(/pending|firing/);
  // A worker polls the task queue, so the "no worker" alert stays quiet: the rule reads a real series.
  expect(alerts.map((a) => a.labels.alertname)).not.toContain('CiuNoWorkerPolling');
  expect(await promQuery(prom, 'temporal_num_pollers{task_queue="ciu"}')).not.toHaveLength(0);
  // Every query of the Grafana dashboard is one Prometheus accepts, and the fleet panel has data.
  const dashboard = JSON.parse(readFileSync(join(clone, 'deploy/grafana/ciu-dashboard.json'), 'utf8')) as {
    panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
  };
  for (const { targets } of dashboard.panels) for (const { expr } of targets) await promQuery(prom, expr);
  const fleet = dashboard.panels.find((p) => p.title === 'Fleet by state')!.targets[0]!.expr;
  expect((await promQuery(prom, fleet)).map((s) => s.metric.state)).toEqual(
    expect.arrayContaining(['upgraded', 'failed', 'up-to-date']),
  );

  // The terminal shows what the README says it shows (its "…" stands for the lines between; on
  // Temporal's non-default port here every printed command also carries --address).
  const campaign = /--campaign (demo-\d{8}-\d{6})/.exec(terminal)![1]!;
  const shown = terminal.split('\n').map((line) => line.trimEnd().replaceAll(` ${address}`, ''));
  let at = 0;
  for (const line of readmeBlock('What the terminal shows once the campaign has ended')) {
    if (line === '…') continue;
    const expected = line.replace(/demo-\d{8}-\d{6}/g, campaign);
    const found = shown.indexOf(expected, at);
    expect({ readme: expected, found: found >= 0 }).toEqual({ readme: expected, found: true });
    at = found + 1;
  }

  // Every command the demo prints to try next works as printed, in the clone.
  const printed = terminal
    .split('\n')
    .filter((line) => /^ {2}npx ciu /.test(line))
    .map((line) => line.trim());
  expect(printed.length).toBeGreaterThanOrEqual(4);
  for (const command of printed) {
    const run = shell(command);
    expect({ command, status: run.status, stderr: run.stderr }).toEqual({ command, status: 0, stderr: '' });
  }
  const status = shell(printed[0]!);
  expect(status.stdout).toContain(`Campaign ${campaign} — completed`);
  expect(status.stdout).toContain('5 Upgraded, 1 Up-to-date, 1 Pre-check failed, 1 Not part of target');

  // The README's own `temporal` lines, against the running demo: examples/upgrade.json is its fleet, so
  // what the demo upgraded is Up-to-date in this second campaign.
  const readmeLines = readmeBlock('`temporal` is the Temporal CLI;').filter((l) => l.startsWith('npx ciu '));
  const [startLine, queryLine, listLine] = readmeLines;
  expect(startLine).toContain('--input-file examples/upgrade.json');
  const withAddress = (line: string) => line.replace(/^npx ciu temporal workflow (\w+)/, `$& ${address}`);
  for (const line of [startLine!, queryLine!, listLine!]) {
    const run = shell(withAddress(line));
    expect({ line, status: run.status, stderr: run.stderr }).toEqual({ line, status: 0, stderr: '' });
  }
  const statesOf = (name: string) => {
    const answer = JSON.parse(
      shell(`npx ciu ${address} show upgrade status --campaign ${name} --json`).stdout,
    ) as {
      phase: string;
      controllers: Array<{ ip: string; state: string }>;
    };
    return answer.phase === 'completed'
      ? Object.fromEntries(answer.controllers.map((c) => [c.ip, c.state]))
      : undefined;
  };
  const demo = statesOf(campaign)!;
  const again = await until('spring-2026 completed', () => statesOf('spring-2026'));
  const upgradedByDemo = Object.keys(demo).filter((ip) => ['upgraded', 'up-to-date'].includes(demo[ip]!));
  expect(upgradedByDemo).toHaveLength(6);
  expect(Object.fromEntries(upgradedByDemo.map((ip) => [ip, again[ip]]))).toEqual(
    Object.fromEntries(upgradedByDemo.map((ip) => [ip, 'up-to-date'])),
  );

  // Ctrl-C stops everything the demo started.
  execFileSync('tmux', [...tmux, 'send-keys', '-t', 'demo', 'C-c']);
  await until('demo exit', () => (/demo exited \d+/.test(pane()) ? true : undefined), 60_000);
  expect(pane()).toContain('Stopping…');
});
