import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { BrowserContext, Page } from 'playwright-core';
import type { CampaignStatus } from '../../src/domain/status';
import { freePort } from '../../devkit/temporal/free-port';
import { upgradeStatusQuery } from '../../workflows/definitions';
import { frameTexts, launchChromium } from '../fixtures/browser';
import { eventually } from '../fixtures/eventually';

// `ciu start` (what `npm start` runs) in its own process, then Debian's Chromium on its Web UI while
// the campaign runs: the master, a child per controller with its summary, and a search-attribute filter.
const bin = join(__dirname, '../../bin/ciu.js');
const artifacts = join(__dirname, '../../test-artifacts');

interface Demo {
  process: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

interface Ports {
  frontend: number;
  ui: number;
  metrics: number;
  sdkMetrics: number;
  ssh: number;
  ftp: number;
}

function startDemo(configDir: string, ports: Ports): Demo {
  const child = spawn(
    process.execPath,
    [
      bin,
      '--config-dir',
      configDir,
      'start',
      '--port',
      String(ports.frontend),
      '--ui-port',
      String(ports.ui),
      '--metrics',
      `127.0.0.1:${ports.metrics}`,
      '--sdk-metrics',
      `127.0.0.1:${ports.sdkMetrics}`,
      '--ssh-port',
      String(ports.ssh),
      '--ftp-port',
      String(ports.ftp),
      // Long enough that 127.20.1.2 (it refuses 4 downloads) is still waiting while the browser looks.
      '--retry-interval',
      '10m',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CIU_LOG_PRETTY: '0', CIU_LOG_LEVEL: 'warn' },
    },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { process: child, output: () => output, exited };
}

/** Until `probe` answers, while `ciu start` keeps running; a failure shows its last output. */
function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  demo: Demo,
  timeoutMs = 120_000,
): Promise<T> {
  const output = () => `ciu start output:\n${demo.output().slice(-4000)}`;
  return eventually(probe, {
    what: () => `${what}; ${output()}`,
    timeoutMs,
    intervalMs: 500,
    giveUp: () =>
      demo.process.exitCode === null ? undefined : `ciu start exited before ${what}; ${output()}`,
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

async function stopDemo(demo: Demo): Promise<number | null> {
  if (demo.process.exitCode === null) demo.process.kill('SIGINT');
  return demo.exited;
}

describe('Web UI during a running campaign (ciu start + headless Chromium)', () => {
  const configDir = mkdtempSync(join(tmpdir(), 'ciu-webui-'));
  const userDataDir = mkdtempSync(join(tmpdir(), 'ciu-chromium-'));
  let demo: Demo | undefined;
  let browser: BrowserContext | undefined;
  let ports: Ports;

  beforeAll(() => mkdirSync(artifacts, { recursive: true }));
  afterAll(async () => {
    await browser?.close();
    if (demo) await stopDemo(demo);
    rmSync(configDir, { recursive: true, force: true });
    rmSync(userDataDir, { recursive: true, force: true });
  });

  /**
   * `ciu start` on ports that were free a moment ago, until its output matches `until`. Another test
   * file running at the same time can take such a port before the demo binds it (even as the local
   * port of an outgoing connection); a start that lost that race is retried on new ports.
   */
  async function startOnFreePorts(until: RegExp, what: string): Promise<{ started: Demo; match: string }> {
    for (let attempt = 1; ; attempt++) {
      ports = {
        frontend: await freePort(),
        ui: await freePort(),
        metrics: await freePort(),
        sdkMetrics: await freePort(),
        ssh: await freePort(),
        ftp: await freePort(),
      };
      const started = startDemo(configDir, ports);
      demo = started;
      try {
        const match = await waitFor(async () => until.exec(started.output())?.[1], what, started);
        return { started, match };
      } catch (err) {
        if (attempt === 3 || !started.output().includes('address already in use')) throw err;
        await stopDemo(started);
      }
    }
  }

  it('shows the master, a child per controller with a readable summary, and filters by CiuState; Ctrl-C leaves nothing behind; a restart finds the history', async () => {
    const { started, match: campaign } = await startOnFreePorts(
      /write memory: campaign (\S+) started/,
      'committed campaign',
    );
    const uiUrl = `http://127.0.0.1:${ports.ui}`;

    const connection = await Connection.connect({ address: `127.0.0.1:${ports.frontend}` });
    try {
      const client = new Client({ connection });
      await waitFor(
        async () => {
          const s: CampaignStatus = await client.workflow.getHandle(campaign).query(upgradeStatusQuery);
          const byIp = Object.fromEntries(s.controllers.map((c) => [c.ip, c.state]));
          return byIp['127.20.1.2'] === 'waiting-retry' && byIp['127.20.1.1'] === 'upgraded' ? s : undefined;
        },
        '127.20.1.2 waiting for retry',
        started,
      );
    } finally {
      await connection.close();
    }

    browser = await launchChromium(userDataDir);
    const page: Page = browser.pages()[0] ?? (await browser.newPage());
    const list = (query: string) =>
      page.goto(`${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);

    // The master workflow, by its campaign name.
    await list(`WorkflowType="masterUpgrade"`);
    await page.getByText(campaign, { exact: true }).first().waitFor({ timeout: 60_000 });
    await page.screenshot({ path: join(artifacts, 'web-ui-campaigns.png'), fullPage: true });

    // Its children, one per targeted controller, found by the campaign search attribute.
    await list(`CiuCampaign="${campaign}" AND WorkflowType="controllerUpgrade"`);
    for (const ip of [
      '127.20.1.1',
      '127.20.1.2',
      '127.20.1.3',
      '127.20.2.1',
      '127.20.2.2',
      '127.20.2.3',
      '127.20.2.129',
    ])
      await page.getByText(`${campaign}/${ip}`, { exact: true }).first().waitFor({ timeout: 30_000 });
    expect(await page.getByText(`${campaign}/127.20.3.1`).count()).toBe(0);

    // Filter: who waits for a retry? Exactly the controller that refused its downloads.
    await list(`CiuCampaign="${campaign}" AND CiuState="waiting-retry"`);
    await page.getByText(`${campaign}/127.20.1.2`, { exact: true }).first().waitFor({ timeout: 30_000 });
    expect(await page.getByText(`${campaign}/127.20.1.1`, { exact: true }).count()).toBe(0);
    await page.screenshot({ path: join(artifacts, 'web-ui-waiting-retry.png'), fullPage: true });

    // The child's page: its place under the master, its readable summary and what it is doing now.
    await page.goto(`${uiUrl}/namespaces/default/workflows/${encodeURIComponent(`${campaign}/127.20.1.2`)}`);
    await page.getByText('Parent Workflow').first().waitFor({ timeout: 30_000 });
    expect(await page.getByRole('link', { name: campaign, exact: true }).count()).toBeGreaterThan(0);
    await page.getByText('User Metadata', { exact: true }).first().click();
    // The UI renders summaries and details (markdown) in sandboxed iframes.
    const shown = (text: string) =>
      waitFor(
        async () => {
          const texts = await frameTexts(page);
          return texts.some((t) => t.includes(text)) ? true : undefined;
        },
        `"${text}" on the controller's page`,
        started,
        30_000,
      );
    await shown('127.20.1.2 A7210 → 6.5.1.0 build 66000');
    await shown('Waiting for retry');
    await page.screenshot({ path: join(artifacts, 'web-ui-controller.png'), fullPage: true });
    await browser.close();
    browser = undefined;

    // Ctrl-C: everything it started stops.
    expect(await stopDemo(started)).toBe(0);
    for (const port of [ports.frontend, ports.ui, ports.metrics, ports.sdkMetrics])
      expect(await listening(port)).toBe(false);
    expect(started.output()).toContain('Stopping…');

    // A second start finds the first campaign in the SQLite history.
    const { started: again } = await startOnFreePorts(
      /Found (\d+) earlier campaign run/,
      'earlier runs found',
    );
    expect(await stopDemo(again)).toBe(0);
    for (const port of [ports.frontend, ports.ui]) expect(await listening(port)).toBe(false);
  });
});
