import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { BrowserContext, Page } from 'playwright-core';
import { failureTypes } from '../../src/domain/errors';
import { ciuDataConverter } from '../../src/temporal/data-converter';
import { addKeyToFile, loadKeyRing } from '../../src/temporal/keys';
import type { LocalTemporal } from '../../devkit/stack';
import { freePort } from '../../devkit/temporal/free-port';
import { masterUpgrade } from '../../workflows';
import { frameTexts, launchChromium } from '../fixtures/browser';
import { eventually } from '../fixtures/eventually';
import { startTestTemporal } from '../fixtures/temporal';
import { withWorker } from '../fixtures/worker';
import { campaignConfig, controller, fakeActivities, installQuietRuntime } from '../workflow/fake-activities';

// The Web UI of a dev server started with --ui-codec-endpoint, in Debian's Chromium: the browser
// sends the encrypted input to `ciu codec-server` and shows it decoded.
const artifacts = join(__dirname, '../../test-artifacts');
const dir = mkdtempSync(join(tmpdir(), 'ciu-webui-codec-'));
const userDataDir = mkdtempSync(join(tmpdir(), 'ciu-chromium-'));
const keyFile = join(dir, 'payload-keys.yaml');
const controllerIp = '10.1.4.17';
let temporal: LocalTemporal | undefined;
let codecServer: ChildProcess | undefined;
let browser: BrowserContext | undefined;

afterAll(async () => {
  await browser?.close();
  codecServer?.kill('SIGINT');
  await temporal?.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(userDataDir, { recursive: true, force: true });
});

test('the Web UI shows the decoded workflow input through ciu codec-server', async () => {
  installQuietRuntime();
  mkdirSync(artifacts, { recursive: true });
  addKeyToFile(keyFile, { id: 'web' });
  const keys = loadKeyRing(keyFile);
  const [uiPort, codecPort] = [await freePort(), await freePort()];
  const uiOrigin = `http://127.0.0.1:${uiPort}`;
  let output = '';
  codecServer = spawn(
    process.execPath,
    [
      join(__dirname, '../../bin/ciu.js'),
      'codec-server',
      '--payload-keys',
      keyFile,
      '--port',
      String(codecPort),
      '--allow-origin',
      uiOrigin,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  codecServer.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  codecServer.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  await eventually(async () => output.includes('codec server on'), { what: () => `codec server: ${output}` });
  temporal = await startTestTemporal({ uiPort, uiCodecEndpoint: `http://127.0.0.1:${codecPort}` });

  const { activities } = fakeActivities({
    verifyImage: async () => {
      throw ApplicationFailure.nonRetryable('header unreadable', failureTypes.imageVerificationFailed);
    },
  });
  const connection = temporal.workerConnection;
  const campaign = await withWorker({ connection, activities, payloadKeys: keys }, async (taskQueue) => {
    const client = new Client({
      connection: (temporal as LocalTemporal).client.connection,
      dataConverter: ciuDataConverter({ payloadKeys: keys }),
    });
    const handle = await client.workflow.start(masterUpgrade, {
      taskQueue,
      workflowId: `webui-codec-${taskQueue}`,
      args: [campaignConfig([controller(controllerIp)])],
    });
    await handle.result().catch(() => undefined);
    return handle.workflowId;
  });

  browser = await launchChromium(userDataDir);
  const page: Page = browser.pages()[0] ?? (await browser.newPage());
  await page.goto(`${uiOrigin}/namespaces/default/workflows/${encodeURIComponent(campaign)}`);
  await eventually(
    async () => {
      const texts = await frameTexts(page);
      return texts.some((t) => t.includes(controllerIp) && t.includes('ArubaOS_72xx_6.4.0.0_81234'));
    },
    { what: () => `decoded input on the workflow page; codec server: ${output}`, timeoutMs: 60_000 },
  );
  await page.screenshot({ path: join(artifacts, 'web-ui-codec-input.png'), fullPage: true });
});
