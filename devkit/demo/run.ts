import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import pino from 'pino';
import { validateCampaignConfig } from '../../src/domain/config';
import type { CampaignStatus } from '../../src/domain/status';
import { createLogger, type Logger } from '../../src/logging';
import { addKeyToFile, loadKeyRing, type KeyRing } from '../../src/temporal/keys';
import { defaultSdkMetricsAddress, startMetricsServer, type MetricsServer } from '../../src/metrics';
import { upgradeStatusQuery } from '../../workflows/definitions';
import { installRuntime } from '../../workers/runtime';
import { campaignSettled, renderCampaignStatus } from '../../src/cli/commands/campaign';
import { commitCampaign } from '../../src/cli/commit';
import { DownloadRates, redrawControl, withLiveProgress } from '../../src/cli/progress';
import { saveCommitted, saveStaged, toStaged } from '../../src/cli/config-file';
import type { CliIo } from '../../src/cli/context';
import { startLocalStack, type LocalStack } from '../stack';
import type { DemoOptions } from './environment';

/** How `ciu start` runs. Defaults are the documented ports of `npm start`. */
export interface DemoRunOptions {
  /** The master's config directory; the dev server's SQLite file and the demo's scratch live here. */
  configDir: string;
  /** Temporal frontend port. Default 7233. */
  port?: number;
  /** Web UI port. Default 8233. */
  uiPort?: number;
  /** ciu's own metrics. Default 127.0.0.1:9465. */
  metricsAddress?: string;
  /** The Temporal runtime's metrics. Default 127.0.0.1:9464. */
  sdkMetricsAddress?: string;
  /** Demo fleet and profile settings (stateDir is derived from configDir). */
  demo?: Omit<DemoOptions, 'stateDir'>;
  /** Logs on the terminal (stderr) instead of in `logFile`, which leaves the terminal to the live table. */
  verbose?: boolean;
  /** Where the logs go unless verbose. Default <configDir>/ciu-start.log, appended to. */
  logFile?: string;
  /** Human logs (pino-pretty) when verbose. Default true. */
  prettyLogs?: boolean;
  /** Whether stdout is a terminal the table is redrawn in, and its width. Default: process.stdout's. */
  terminal?: { columns: number } | undefined;
}

/**
 * Resolves `stopped` on the first SIGINT/SIGTERM/SIGHUP (or `stop()`) and keeps catching later signals
 * until `release`, so a second Ctrl-C (or a closed terminal) cannot cut the cleanup short.
 */
function signalled(): { stopped: Promise<void>; stop(): void; release(): void } {
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const handler = () => stop();
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  process.on('SIGHUP', handler);
  return {
    stopped,
    stop,
    release() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      process.off('SIGHUP', handler);
    },
  };
}

function campaignName(now: Date): string {
  return `demo-${now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}`;
}

/** A fingerprint of what the operator would notice changing in the table. */
function visible(status: CampaignStatus): string {
  return JSON.stringify([status.phase, status.controllers.map((c) => [c.state, c.attempts, c.lastError])]);
}

/**
 * `npm start`: the embedded dev server (persistent SQLite), a worker, a real FTP server with built
 * images, a simulated fleet; commits the campaign, shows live progress until every controller has
 * its end state, then stays up for the Web UI until Ctrl-C, and stops everything it started.
 */
export async function runDemo(options: DemoRunOptions, io: CliIo): Promise<void> {
  mkdirSync(options.configDir, { recursive: true });
  const logFile = options.logFile ?? join(options.configDir, 'ciu-start.log');
  const logger: Logger = options.verbose
    ? createLogger('ciu', { pretty: options.prettyLogs ?? true })
    : pino(
        { name: 'ciu', level: process.env.CIU_LOG_LEVEL ?? 'info' },
        pino.destination({ dest: logFile, append: true, sync: true }),
      );
  const terminal =
    'terminal' in options
      ? options.terminal
      : process.stdout.isTTY
        ? { columns: process.stdout.columns }
        : undefined;
  const signals = signalled();
  const untilStopped = signals.stopped;
  let stopping = false;
  void untilStopped.then(() => {
    stopping = true;
  });
  const cleanups: Array<[string, () => Promise<void>]> = [];
  const say = (text: string) => io.out(`${text}\n`);
  try {
    if (!options.verbose) say(`Logs: ${logFile} (\`npx ciu start --verbose\` shows them here instead)`);
    const dbFile = join(options.configDir, 'temporal.db');
    // The demo orders its own shutdown on Ctrl-C (the campaign view first, then the worker), so
    // the SDK must not stop the worker on the same signal while a commit is still waiting for it.
    installRuntime({
      logger,
      metricsBindAddress: options.sdkMetricsAddress ?? defaultSdkMetricsAddress,
      shutdownSignals: [],
    });
    const aborted = new AbortController();
    void untilStopped.then(() => aborted.abort(new Error('stopped while starting')));
    let stack: LocalStack;
    try {
      stack = await startLocalStack({
        devServer: {
          dbFile,
          port: options.port ?? 7233,
          uiPort: options.uiPort ?? 8233,
          logLevel: 'error',
          // A start after a SIGKILL whose watchdog died too still ends the old server first.
          pidFile: join(options.configDir, 'temporal.pid'),
        },
        environment: { ...options.demo, stateDir: join(options.configDir, 'demo') },
        logger,
        signal: aborted.signal,
        // Kept beside the history: campaigns a restarted demo finds must still verify their seals.
        messageKeys: demoMessageKeys(join(options.configDir, 'message-keys.yaml')),
      });
    } catch (err) {
      if (stopping) return;
      throw err;
    }
    const { dev, client, env } = stack;
    cleanups.push(['local stack', () => stack.stop()]);
    stack.worker.running.catch((err: unknown) => {
      logger.error({ err }, 'worker stopped; shutting the demo down');
      signals.stop();
    });
    const uiUrl = dev.uiUrl as string;
    say(`Temporal dev server on ${dev.address}, history in ${dbFile}; Web UI ${uiUrl}`);
    const earlier = await client.workflow.count(`WorkflowType = 'masterUpgrade'`);
    if (earlier.count > 0)
      say(
        `Found ${earlier.count} earlier campaign run(s) in ${dbFile}: ${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent("WorkflowType='masterUpgrade'")}`,
      );
    say(
      `FTP image server (vsftpd) on ${env.ftp.host}:${env.ftp.port} serving ${Object.values(env.images).join(', ')}`,
    );
    say(
      `${env.config.inventory.length} simulated controllers: ${env.config.inventory.map((c) => `${c.ip} ${c.model}`).join(', ')}`,
    );

    const metricsServer: MetricsServer = await startMetricsServer(
      stack.metrics.registry,
      options.metricsAddress,
    );
    cleanups.push(['metrics endpoint', () => metricsServer.close()]);

    const campaign = campaignName(new Date());
    saveStaged(options.configDir, toStaged({ campaign, ...env.config }, 'demo config'));
    const validation = validateCampaignConfig(env.config);
    if (!validation.ok) throw new Error(`demo config invalid: ${validation.issues.join('; ')}`);
    const inputFile = join(options.configDir, 'demo', 'upgrade.json');
    writeFileSync(inputFile, `${JSON.stringify(env.config, null, 2)}\n`);
    const outcome = await commitCampaign(client, campaign, validation.config);
    saveCommitted(options.configDir, {
      campaign,
      committedAt: new Date().toISOString(),
      configHash: outcome.configHash,
      runId: outcome.runId,
      config: validation.config,
    });
    say(`write memory: campaign ${campaign} ${outcome.action} (run ${outcome.runId})\n`);

    const handle = client.workflow.getHandle(campaign);
    const rates = new DownloadRates();
    const quickTries = validation.config.profile.quickTries;
    let last = '';
    let frame: string | undefined;
    let status: CampaignStatus | undefined;
    while (!stopping) {
      status = await withLiveProgress(client, await handle.query(upgradeStatusQuery));
      if (terminal) {
        // The live view: one table redrawn in place, with a progress bar per download.
        const next = renderCampaignStatus(status, {
          quickTries,
          rates: rates.update(status),
          width: terminal.columns,
        });
        io.control?.(redrawControl(frame));
        io.out(next);
        frame = next;
      } else if (visible(status) !== last) {
        last = visible(status);
        say(`[${new Date().toISOString().slice(11, 19)}] ${renderCampaignStatus(status, { quickTries })}`);
      }
      if (campaignSettled(status)) break;
      await Promise.race([new Promise((r) => setTimeout(r, 1000)), untilStopped]);
    }
    if (!stopping) {
      const ui = `${uiUrl}/namespaces/default/workflows`;
      const byCampaign = `${ui}?query=${encodeURIComponent(`CiuCampaign="${campaign}"`)}`;
      const address = dev.address === '127.0.0.1:7233' ? '' : ` --address ${dev.address}`;
      // As the operator would type it from the checkout, as the README shows it.
      const fromHere = relative(process.cwd(), inputFile);
      const shownInput = fromHere.startsWith('..') ? inputFile : fromHere;
      say(
        [
          `Every controller has its end state. The demo stays up; Ctrl-C stops everything.`,
          ``,
          `Web UI:       ${ui}/${encodeURIComponent(campaign)}`,
          `  this campaign's controllers: ${byCampaign}`,
          `  filter e.g. CiuState="failed", CiuState="waiting-retry", CiuModel="A7005"`,
          `Metrics:      http://${metricsServer.address}/metrics (ciu), http://${options.sdkMetricsAddress ?? defaultSdkMetricsAddress}/metrics (Temporal runtime)`,
          ``,
          `Try next (another terminal):`,
          `  npx ciu${address} show upgrade status --campaign ${campaign}`,
          `  npx ciu temporal workflow query${address} --workflow-id ${campaign} --type upgradeStatus`,
          `  npx ciu temporal workflow list${address} --query 'CiuCampaign="${campaign}" AND CiuState="upgraded"'`,
          `  npx ciu temporal workflow start${address} --type masterUpgrade --task-queue ciu --workflow-id ${campaign}-again --input-file ${shownInput}`,
          // This campaign has ended, so a purge has nothing to stop: say how, without a command that would fail.
          `While a campaign runs, \`npx ciu upgrade target purge <ip|subnet|all> --campaign <name>\` (the purgeTargets signal) stops those controllers.`,
        ].join('\n'),
      );
      await untilStopped;
    }
    say('Stopping…');
  } finally {
    for (const [name, cleanup] of cleanups.reverse()) {
      await cleanup().catch((err: unknown) => logger.warn({ err, component: name }, 'shutdown step failed'));
    }
    logger.flush?.();
    signals.release();
  }
}

/** The demo's message key file, made (mode 600) on the first start. */
function demoMessageKeys(file: string): KeyRing {
  if (!existsSync(file)) addKeyToFile(file, { id: 'demo' });
  return loadKeyRing(file);
}
