import type { Command } from 'commander';
import type { CampaignPlan, PlanFacts } from '../../domain/plan';
import type { CampaignConfig } from '../../domain/types';
import { loadCommitted, loadStaged } from '../config-file';
import { globalOptions, withExamples, type CliContext } from '../context';
import { CliError, exitCodes, UsageError } from '../exit-codes';
import { subcommand } from './rollout-tree';

/**
 * Reads what the plan needs from each targeted controller, read-only (`show version`, `show image
 * version`, `show storage`), with the credential store this machine has (CIU_CREDENTIALS_FILE).
 */
async function inspectFleet(config: CampaignConfig, ctx: CliContext): Promise<Record<string, PlanFacts>> {
  const [{ createControllerActivities }, { credentialStore }, { settingsFromEnv }, { default: pino }] =
    await Promise.all([
      import('../../../activities/controller'),
      import('../../credentials/store'),
      import('../../settings'),
      import('pino'),
    ]);
  const activities = createControllerActivities({
    credentials: credentialStore({ env: ctx.env }),
    logger: pino({ level: 'silent' }),
    knownHostsFile: settingsFromEnv(ctx.env).knownHostsFile,
  });
  const { resolveTargets } = await import('../../domain/targets');
  const facts: Record<string, PlanFacts> = {};
  await Promise.all(
    resolveTargets(config.inventory, config.targets).controllers.map(async (controller) => {
      try {
        const seen = await activities.inspectController(controller);
        const storage = await activities.inspectStorage(controller);
        facts[controller.ip] = {
          model: seen.model,
          runningVersion: seen.runningVersion,
          runningBuild: seen.runningBuild,
          bootPartition: seen.bootPartition,
          freeBytes: storage.freeBytes,
        };
      } catch (err) {
        ctx.io.err(`ciu: could not inspect ${controller.ip}: ${(err as Error).message}\n`);
      }
    }),
  );
  return facts;
}

/** `ciu show upgrade plan`: the dry run of the staged (or committed, or running) config. */
export function registerPlanCommand(program: Command, ctx: CliContext): void {
  const showUpgrade = subcommand(subcommand(program, 'show'), 'upgrade');
  withExamples(
    showUpgrade
      .command('plan')
      .description(
        'dry run: per controller what write memory would do (up-to-date, not part of target, image, partition, windows) and what it refuses and why; touches no controller unless --inspect',
      )
      .option('--committed', 'plan the config `write memory` last committed instead of the staged one')
      .option(
        '--running',
        'ask the running campaign (upgradePlan query): its committed config and the versions its controllers reported',
      )
      .option('--campaign <name>', 'campaign for --running (default: the staged one)')
      .option(
        '--inspect',
        'log in to each targeted controller read-only first (show version, show image version, show storage)',
      )
      .option('--json', 'print the plan as JSON')
      .option('--wide', 'one line per controller, whatever the terminal width (default: wrap to fit it)')
      .action(async function (this: Command) {
        const opts = this.opts<{
          committed?: boolean;
          running?: boolean;
          campaign?: string;
          inspect?: boolean;
          json?: boolean;
          wide?: boolean;
        }>();
        const { configDir, temporal } = globalOptions(this, ctx);
        let plan: CampaignPlan;
        if (opts.running) {
          const campaign = opts.campaign ?? loadStaged(configDir).campaign;
          const { upgradePlanQuery } = await import('../../../workflows/definitions');
          const { withClient } = await import('../client');
          plan = await withClient(temporal, (client) =>
            client.workflow.getHandle(campaign).query(upgradePlanQuery),
          );
        } else {
          let input: unknown;
          if (opts.committed) {
            const committed = loadCommitted(configDir);
            if (!committed)
              throw new CliError('nothing committed yet: run `ciu write memory`', exitCodes.notFound);
            input = committed.config;
          } else {
            const { campaign: _campaign, ...staged } = loadStaged(configDir);
            input = staged;
          }
          const { validateCampaignConfig } = await import('../../domain/config');
          const result = validateCampaignConfig(input);
          if (!result.ok)
            throw new UsageError(
              `plan refused: the config has ${result.issues.length} problem(s)`,
              result.issues,
            );
          const facts = opts.inspect ? await inspectFleet(result.config, ctx) : {};
          const { planCampaign } = await import('../../domain/plan');
          plan = planCampaign(result.config, new Date(), facts);
        }
        const { renderPlan } = await import('../plan-table');
        ctx.io.out(
          opts.json
            ? `${JSON.stringify(plan, null, 2)}\n`
            : renderPlan(plan, { width: opts.wide ? 0 : (process.stdout.columns ?? 120) }),
        );
      }),
    'ciu show upgrade plan',
    'ciu show upgrade plan --inspect',
    'ciu show upgrade plan --running --json',
  );
}
