import type { Command } from 'commander';
import { downloadActivityTypes } from '../../domain/download-activities';
import { operatorHint } from '../../domain/errors';
import { controllerStates, problemStates, statusPageLimit, type CampaignStatus } from '../../domain/status';
import type { CampaignConfig } from '../../domain/types';
import { purgeSelectorIssues } from '../../domain/targets';
import { answeredWithin, answerTimeoutMs, withAnswerTimeout } from '../answer';
import { withClient, withFrontendReader, type TemporalTarget } from '../client';
import { loadCommitted, loadStaged, saveCommitted } from '../config-file';
import { settingsFromEnv } from '../../settings';
import { globalOptions, withExamples, type CliContext } from '../context';
import { CliError, exitCodes, UsageError } from '../exit-codes';
import { countsText, oneLine, renderStatusTable, type StatusTableOptions } from '../status-table';

/** Human text for one status snapshot: campaign line, verification problems, unmatched targets, table, counts. */
export function renderCampaignStatus(status: CampaignStatus, options: StatusTableOptions = {}): string {
  const held = status.state === 'halted' || status.state === 'paused' ? status.state : status.phase;
  const lines = [
    `Campaign ${status.campaign} — ${held}, config revision ${status.revision}, downloads ${status.downloadSlots.inUse}/${status.downloadSlots.max} (${status.downloadSlots.waiting} waiting)`,
  ];
  for (const v of status.verifications.filter((v) => !v.ok))
    lines.push(
      `Image ${v.imageFile} for ${v.model} failed verification: ${oneLine(v.error ?? 'unknown error')}${operatorHint(v.errorType)}`,
    );
  if (status.unmatchedSelectors.length)
    lines.push(`Targets matching no associated controller: ${status.unmatchedSelectors.join(', ')}`);
  if (status.ignoredPurges?.length)
    lines.push(`Purges that did nothing: ${oneLine(status.ignoredPurges.join('; '))}`);
  lines.push(...controlLines(status));
  lines.push(renderStatusTable(status.controllers, options));
  const pageLine = pageText(status);
  if (pageLine) lines.push(pageLine);
  lines.push(`${countsText(status.counts)}${controlCounts(status)}`);
  return `${lines.join('\n')}\n`;
}

/**
 * When the status query failed because the campaign's run ended before it could answer (a start that
 * masterUpgrade itself refused, say): that run's own reason, where the server would only say
 * "Encoded failure". Nothing when the failure was something else.
 */
async function endedWithoutAnswer(
  target: TemporalTarget,
  campaign: string,
  err: unknown,
): Promise<CliError | undefined> {
  if (err instanceof CliError) return undefined;
  const { unsuccessfulEnd } = await import('../run-end');
  const end = await withClient(target, (client) =>
    unsuccessfulEnd(client.workflow.getHandle(campaign)),
  ).catch(() => undefined);
  if (!end) return undefined;
  const type = end.type ? ` (${end.type})` : '';
  return new CliError(
    `campaign ${campaign} ended ${end.status} before it could answer: ${end.reason}${type}`,
  );
}

/** The halt, the pause and the waves, above the table (nothing for a campaign without them). */
function controlLines(status: CampaignStatus): string[] {
  const lines: string[] = [];
  if (status.halt)
    lines.push(
      `HALTED since ${status.halt.at}: ${oneLine(status.halt.reason)} — \`ciu upgrade resume\` continues, \`ciu upgrade target purge all\` ends it`,
    );
  if (status.pause)
    lines.push(
      status.pause.campaign
        ? `PAUSED since ${status.pause.at}: nothing new starts — \`ciu upgrade resume\``
        : `Paused: ${status.pause.controllers.join(', ')} — \`ciu upgrade resume <selector>\``,
    );
  if (status.waves)
    lines.push(
      `Waves: ${status.waves
        .map(
          (w) =>
            `${w.name} ${w.state}${w.soakUntil ? ` until ${w.soakUntil}` : ''} ${w.final}/${w.size}${w.failures ? `, ${w.failures} failed` : ''}${w.maxFailures === undefined ? '' : ` (max-failures ${w.maxFailures})`}`,
        )
        .join(' · ')}`,
    );
  if (status.maxFailures !== undefined) lines.push(`Campaign max-failures: ${status.maxFailures}`);
  return lines;
}

/** After the counts: whether the campaign is halted or paused, so a glance at the last line says it. */
function controlCounts(status: CampaignStatus): string {
  if (status.halt) return ' — campaign HALTED (failure budget exceeded)';
  if (status.pause?.campaign) return ' — campaign PAUSED';
  if (status.pause) return ` — ${status.pause.controllers.length} paused`;
  return '';
}

/** Where the page sits when it is not the whole answer, and how to see the next one. */
function pageText({ page, controllers }: CampaignStatus): string | undefined {
  if (page.offset === 0 && controllers.length >= page.total) return undefined;
  const n = (value: number) => value.toLocaleString('en-US');
  const shown = controllers.length
    ? `Controllers ${n(page.offset + 1)}–${n(page.offset + controllers.length)} of ${n(page.total)}`
    : `No controllers on this page (${n(page.total)} in all)`;
  const next = page.offset + controllers.length < page.total;
  return `${shown}${next ? `; next: --page ${Math.floor(page.offset / page.limit) + 2}` : ''}`;
}

/** Whether the campaign has ended: every controller final and the master done, or verification failed. */
export function campaignSettled(status: CampaignStatus): boolean {
  return status.phase === 'completed' || status.phase === 'verification-failed';
}

/** Why `--exit-status` exits 3: a failed verification (nothing will be upgraded) or failed controllers. */
export function campaignProblem(status: CampaignStatus): string | undefined {
  if (status.phase === 'verification-failed')
    return 'failed: image verification failed, nothing was dispatched';
  if (problemStates.some((state) => (status.counts[state] ?? 0) > 0)) return 'has failed controllers';
  return undefined;
}

function campaignName(command: Command, ctx: CliContext): string {
  const explicit = command.opts<{ campaign?: string }>().campaign;
  return explicit ?? loadStaged(globalOptions(command, ctx).configDir).campaign;
}

/** The upgradeStatus request `--controller`, `--state` and `--page` ask for; a bad value is a usage error naming the option. */
export async function statusRequestFromOptions(opts: { controller?: string; state?: string; page: string }) {
  const page = Number(opts.page);
  if (!Number.isInteger(page) || page < 1) throw new UsageError('--page must be a whole number, 1 or more');
  const offset = (page - 1) * statusPageLimit;
  // A page alone is valid by now. Only a filter loads the schema: zod would be a third of this call's start-up.
  if (opts.controller === undefined && opts.state === undefined) return { offset };
  const { validateStatusRequest } = await import('../../domain/status-request');
  const validated = validateStatusRequest({ controller: opts.controller, state: opts.state, offset });
  if (!validated.ok)
    throw new UsageError(
      'show upgrade status refused',
      validated.issues.map((issue) =>
        issue.replace(/^upgradeStatus request\.(controller|state)/, (_, field: string) => `--${field}`),
      ),
    );
  return validated.value;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `ciu write memory`, `ciu upgrade target purge`, `ciu show upgrade status|config`. */
export function registerCampaignCommands(program: Command, target: Command, ctx: CliContext): void {
  const write = withExamples(
    program.command('write').description('commit the staged configuration'),
    'ciu write memory',
  );
  withExamples(
    withAnswerTimeout(write.command('memory'))
      .description(
        'validate the staged config fully and commit it: start the campaign, or push the config into the running one',
      )
      .action(async function (this: Command) {
        const { configDir, temporal } = globalOptions(this, ctx);
        const timeoutMs = answerTimeoutMs(this);
        const staged = loadStaged(configDir);
        // Loaded here: the schemas are most of what `show upgrade status` would otherwise load for nothing.
        const { validateStaged } = await import('../validate-staged');
        const { configStore } = settingsFromEnv(ctx.env);
        const config = validateStaged(staged, configStore !== undefined);
        const { commitCampaign } = await import('../commit');
        const outcome = await withClient(temporal, (client) =>
          commitCampaign(client, staged.campaign, config, {
            answerTimeoutMs: timeoutMs,
            ...(configStore !== undefined ? { configStore } : {}),
          }),
        );
        saveCommitted(configDir, {
          campaign: staged.campaign,
          committedAt: new Date().toISOString(),
          configHash: outcome.configHash,
          runId: outcome.runId,
          config,
        });
        const r = outcome.result;
        const detail = r
          ? ` revision ${r.revision}${r.changed ? '' : ' (unchanged)'}${r.added.length ? `; added ${r.added.join(', ')}` : ''}${r.removed.length ? `; cleared ${r.removed.join(', ')}` : ''}`
          : '';
        const previous = outcome.previous;
        const said = {
          started: previous
            ? `Campaign ${staged.campaign} started again (run ${outcome.runId}): its last run of this exact config (run ${previous.runId}) ${previous.ended};`
            : `Campaign ${staged.campaign} started (run ${outcome.runId}):`,
          pushed: `Campaign ${staged.campaign} is running; config pushed:`,
          unchanged: `Campaign ${staged.campaign} already ran this exact config (run ${outcome.runId}) and ${previous?.ended ?? 'ended'}; nothing started. To upgrade the same targets again, name a new campaign (\`ciu upgrade campaign <name>\`), then \`ciu write memory\`.`,
        }[outcome.action];
        ctx.io.out(`${said}${detail}\n`);
      }),
    'ciu write memory',
  );

  withExamples(
    write
      .command('config-store')
      .description(
        'validate the staged config and write it to the config store (CIU_CONFIG_STORE); print the reference a plain `temporal workflow start` passes as its input',
      )
      .action(async function (this: Command) {
        const { configDir } = globalOptions(this, ctx);
        const { configStore } = settingsFromEnv(ctx.env);
        if (configStore === undefined)
          throw new UsageError(
            'write config-store refused: CIU_CONFIG_STORE is not set (the directory `ciu` and every worker share)',
          );
        const staged = loadStaged(configDir);
        const { validateStaged } = await import('../validate-staged');
        const config = validateStaged(staged, true);
        const { putConfig } = await import('../../config-store/store');
        ctx.io.out(`${JSON.stringify({ configRef: putConfig(configStore, config) })}\n`);
      }),
    'ciu write config-store',
  );

  withExamples(
    withAnswerTimeout(target.command('purge <selectors...>'))
      .description(
        'stop and purge targets of the running campaign now (IP, subnet or all), mid-download and mid-wait included',
      )
      .option('--campaign <name>', 'campaign (default: the staged one)')
      .action(async function (this: Command, selectors: string[]) {
        const issues = purgeSelectorIssues(selectors);
        if (issues.length > 0) throw new UsageError('purge refused', issues);
        const campaign = campaignName(this, ctx);
        const timeoutMs = answerTimeoutMs(this);
        // The update, not the signal: a worker's validator can refuse it, and the answer says what was purged.
        const { purgeTargetsUpdate, taskQueue } = await import('../../../workflows/definitions');
        const result = await withClient(globalOptions(this, ctx).temporal, (client) =>
          answeredWithin(
            client.workflow.getHandle(campaign).executeUpdate(purgeTargetsUpdate, {
              args: [selectors.length === 1 ? (selectors[0] as string) : selectors],
            }),
            timeoutMs,
          ),
        );
        if (result === undefined)
          throw new CliError(
            `campaign ${campaign}: no worker answered within ${timeoutMs / 1000} s; is a worker polling task queue ${taskQueue}? The purge is not confirmed: start a worker (\`ciu worker\`), then check with \`ciu show upgrade status\` or purge again`,
          );
        const purged = result.purged.length ? result.purged.join(', ') : 'nothing (already final or purged)';
        const idle = result.matchingNoTarget.length
          ? `; matching no target: ${result.matchingNoTarget.join(', ')}`
          : '';
        ctx.io.out(`Campaign ${campaign}: purged ${purged}${idle}\n`);
      }),
    'ciu upgrade target purge 10.1.4.0/24',
  );

  const show = withExamples(program.command('show').description('show state'), 'ciu show upgrade status');
  const showUpgrade = withExamples(
    show.command('upgrade').description('show the upgrade campaign'),
    'ciu show upgrade status --watch',
  );
  withExamples(
    showUpgrade
      .command('status')
      .description(
        'per controller: IP, model, role, running/target version, state, attempts, next retry, last error',
      )
      .option('--campaign <name>', 'campaign (default: the staged one)')
      .option(
        '--json',
        'print the upgradeStatus query answer as JSON (schema: README, "show upgrade status --json")',
      )
      .option('--wide', 'one line per controller, whatever the terminal width (default: wrap to fit it)')
      .option('--controller <ip>', 'only this controller')
      .option('--state <state>', `only controllers in this state (${controllerStates.join(', ')})`)
      .option(
        '--page <n>',
        `page of ${statusPageLimit} controllers to show (the counts always cover the whole campaign)`,
        '1',
      )
      .option('--watch', 'refresh until every controller has its end state')
      .option('--interval <seconds>', 'refresh period for --watch', '2')
      .option('--exit-status', 'exit 3 when a controller failed or the image verification failed')
      .action(async function (this: Command) {
        const opts = this.opts<{
          json?: boolean;
          wide?: boolean;
          watch?: boolean;
          interval: string;
          exitStatus?: boolean;
          controller?: string;
          state?: string;
          page: string;
        }>();
        const request = await statusRequestFromOptions(opts);
        const width = opts.wide ? 0 : (process.stdout.columns ?? 120);
        const campaign = campaignName(this, ctx);
        const committed = loadCommitted(globalOptions(this, ctx).configDir);
        const quickTries =
          committed?.campaign === campaign
            ? (committed.config as CampaignConfig).profile.quickTries
            : undefined;
        const { upgradeStatusQuery } = await import('../../../workflows/definitions');
        const { addLiveProgress } = await import('../progress');
        const target = globalOptions(this, ctx).temporal;
        const status = await withFrontendReader(target, async (frontend) => {
          for (;;) {
            const answer = (await frontend.query(
              campaign,
              upgradeStatusQuery.name,
              request,
            )) as CampaignStatus;
            const snapshot = await addLiveProgress(answer, (child) =>
              frontend.pendingActivityHeartbeat(child, downloadActivityTypes),
            );
            if (opts.json) ctx.io.out(`${JSON.stringify(snapshot, null, 2)}\n`);
            else {
              if (opts.watch && process.stdout.isTTY) ctx.io.control?.('\x1b[2J\x1b[H');
              ctx.io.out(renderCampaignStatus(snapshot, { quickTries, width }));
            }
            if (!opts.watch || campaignSettled(snapshot)) return snapshot;
            await sleep(Number(opts.interval) * 1000);
          }
        }).catch(async (err: unknown) => {
          throw (await endedWithoutAnswer(target, campaign, err)) ?? err;
        });
        const problem = campaignProblem(status);
        if (opts.exitStatus && problem)
          throw new CliError(`campaign ${campaign} ${problem}`, exitCodes.failedControllers);
      }),
    'ciu show upgrade status',
    'ciu show upgrade status --watch',
    'ciu show upgrade status --json --exit-status',
  );
  withExamples(
    showUpgrade
      .command('config')
      .description('print the staged config (or the committed one) as YAML')
      .option('--committed', 'the config `write memory` last committed')
      .option('--json', 'as JSON')
      .action(async function (this: Command) {
        const opts = this.opts<{ committed?: boolean; json?: boolean }>();
        const { configDir } = globalOptions(this, ctx);
        const doc = opts.committed ? loadCommitted(configDir) : loadStaged(configDir);
        if (!doc) throw new CliError('nothing committed yet: run `ciu write memory`', exitCodes.notFound);
        const { stringify: stringifyYaml } = await import('yaml');
        ctx.io.out(opts.json ? `${JSON.stringify(doc, null, 2)}\n` : stringifyYaml(doc));
      }),
    'ciu show upgrade config',
    'ciu show upgrade config --committed',
  );
}
