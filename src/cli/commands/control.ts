import type { UpdateDefinition } from '@temporalio/client';
import type { Command } from 'commander';
import type { ZodType } from 'zod';
import { answeredWithin, answerTimeoutMs, withAnswerTimeout } from '../answer';
import { withClient } from '../client';
import { loadStaged } from '../config-file';
import { settingsFromEnv } from '../../settings';
import { globalOptions, withExamples, type CliContext } from '../context';
import { CliError, UsageError } from '../exit-codes';
import { subcommand } from './rollout-tree';

/**
 * `ciu upgrade pause|resume [selectors...]` and `ciu upgrade target retry <selectors...>`: the
 * master's pauseCampaign, resumeCampaign and retryTargets Updates. Each request is checked here by
 * the same rule as the worker's validator, so a bad one is refused naming the field before it is sent.
 */
export function registerControlCommands(program: Command, ctx: CliContext): void {
  const upgrade = subcommand(program, 'upgrade');
  const target = subcommand(upgrade, 'target');

  withExamples(
    withAnswerTimeout(upgrade.command('pause [selectors...]'))
      .description(
        'pause the running campaign (or the controllers the IPs/subnets match): no new child, no new download slot; downloads under way finish unless --abort-downloads',
      )
      .option(
        '--abort-downloads',
        'stop the downloads under way; those controllers wait for resume (not purged)',
      )
      .option('--campaign <name>', 'campaign (default: the staged one)')
      .action(async function (this: Command, selectors: string[]) {
        const { abortDownloads } = this.opts<{ abortDownloads?: boolean }>();
        const request = {
          ...(selectors.length ? { selectors } : {}),
          ...(abortDownloads ? { abortDownloads: true } : {}),
        };
        const { pauseCampaignUpdate } = await import('../../../workflows/definitions');
        const { pauseRequestSchema } = await import('../../domain/campaign-control');
        const { campaign, result } = await send(this, ctx, pauseCampaignUpdate, pauseRequestSchema, request);
        const what = result.campaign ? 'the whole campaign' : result.paused.join(', ') || 'nothing';
        const aborting = result.aborting.length
          ? `; stopping the downloads of ${result.aborting.join(', ')}`
          : '';
        ctx.io.out(`Campaign ${campaign}: paused ${what}${aborting}${idleText(result.matchingNoTarget)}\n`);
      }),
    'ciu upgrade pause',
    'ciu upgrade pause 10.1.5.0/24 --abort-downloads',
  );

  withExamples(
    withAnswerTimeout(upgrade.command('resume [selectors...]'))
      .description(
        'resume what is paused (all, or the controllers the IPs/subnets match); resuming the whole campaign also ends a failure-budget halt',
      )
      .option('--campaign <name>', 'campaign (default: the staged one)')
      .action(async function (this: Command, selectors: string[]) {
        const { resumeCampaignUpdate } = await import('../../../workflows/definitions');
        const { resumeRequestSchema } = await import('../../domain/campaign-control');
        const { campaign, result } = await send(
          this,
          ctx,
          resumeCampaignUpdate,
          resumeRequestSchema,
          selectors.length ? { selectors } : {},
        );
        const lines = [
          `Campaign ${campaign}: resumed ${result.resumed.join(', ') || 'nothing paused'}${idleText(result.matchingNoTarget)}`,
        ];
        if (result.clearedHalt) lines.push(`Halt cleared (${result.clearedHalt}); the campaign continues`);
        if (result.stillHalted)
          lines.push(
            `Still halted: ${result.stillHalted} — \`ciu upgrade resume\` without selectors ends the halt`,
          );
        ctx.io.out(`${lines.join('\n')}\n`);
      }),
    'ciu upgrade resume',
    'ciu upgrade resume 10.1.5.0/24',
  );

  withExamples(
    withAnswerTimeout(target.command('retry <selectors...>'))
      .description(
        'start failed, pre-check-failed, rolled-back and purged targets again in the same campaign, attempts and error history kept; a completed campaign runs again for them alone',
      )
      .option('--campaign <name>', 'campaign (default: the staged one)')
      .action(async function (this: Command, selectors: string[]) {
        const { retryRequestSchema, checkRequest } = await import('../../domain/campaign-control');
        let request;
        try {
          request = checkRequest(retryRequestSchema, { selectors }, 'retryTargets');
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        const { campaign, temporal, timeoutMs } = campaignOf(this, ctx);
        const { retryCampaign } = await import('../retry');
        const outcome = await withClient(temporal, (client) =>
          retryCampaign(client, campaign, request, timeoutMs, settingsFromEnv(ctx.env).configStore),
        );
        const { result } = outcome;
        const lines = [
          outcome.action === 'retried'
            ? `Campaign ${campaign}: retrying ${result.retried.join(', ') || 'nothing'}${idleText(result.matchingNoTarget)}`
            : `Campaign ${campaign} had completed (run ${outcome.completedRun}); run ${outcome.runId} retries ${result.retried.join(', ')}, every other controller keeps its final state${idleText(result.matchingNoTarget)}`,
        ];
        if (result.skipped.length)
          lines.push(`Left alone: ${result.skipped.map((s) => `${s.ip} (${s.state})`).join(', ')}`);
        if (outcome.action === 'retried' && outcome.result.heldBy && result.retried.length)
          lines.push(`They start once it no longer holds: ${outcome.result.heldBy} — \`ciu upgrade resume\``);
        ctx.io.out(`${lines.join('\n')}\n`);
      }),
    'ciu upgrade target retry 10.1.4.17',
    'ciu upgrade target retry all',
  );
}

/** The campaign a control command addresses, the Temporal target and how long to wait for an answer. */
function campaignOf(command: Command, ctx: CliContext) {
  const explicit = command.opts<{ campaign?: string }>().campaign;
  const { configDir, temporal } = globalOptions(command, ctx);
  return {
    campaign: explicit ?? loadStaged(configDir).campaign,
    temporal,
    timeoutMs: answerTimeoutMs(command),
  };
}

function idleText(selectors: readonly string[]): string {
  return selectors.length ? `; matching no target: ${selectors.join(', ')}` : '';
}

/** Checks the request, sends the Update to the campaign and waits for a worker's answer. */
async function send<Args extends [unknown], R>(
  command: Command,
  ctx: CliContext,
  update: UpdateDefinition<R, Args, string>,
  schema: ZodType,
  request: Args[0],
): Promise<{ campaign: string; result: R }> {
  const { checkRequest } = await import('../../domain/campaign-control');
  try {
    checkRequest(schema, request, update.name);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { campaign, temporal, timeoutMs } = campaignOf(command, ctx);
  const { WorkflowUpdateFailedError } = await import('@temporalio/client');
  const result = await withClient(temporal, (client) =>
    answeredWithin(
      client.workflow
        .getHandle(campaign)
        .executeUpdate(update, { args: [request] as unknown as Args })
        .catch((err: unknown) => {
          if (err instanceof WorkflowUpdateFailedError)
            throw new UsageError(err.cause?.message ?? err.message);
          throw err;
        }),
      timeoutMs,
    ),
  );
  if (result === undefined)
    throw new CliError(
      `campaign ${campaign}: no worker answered ${update.name} within ${timeoutMs / 1000} s; is a worker polling? Nothing is confirmed: check with \`ciu show upgrade status\``,
    );
  return { campaign, result };
}
