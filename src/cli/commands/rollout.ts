import type { Command } from 'commander';
import { validateCampaignConfig } from '../../domain/config';
import { planCampaign, type CampaignPlan, type PlanFacts } from '../../domain/plan';
import type { CampaignConfig } from '../../domain/types';
import { withClient } from '../client';
import { loadCommitted, loadStaged, type StagedConfig } from '../config-file';
import { globalOptions, withExamples, type CliContext } from '../context';
import { CliError, exitCodes, UsageError } from '../exit-codes';
import { renderPlan } from '../plan-table';
import { edit } from './staged';
import {
  removeWindow,
  setFallback,
  setPreChecks,
  setStartAt,
  setWindow,
  type WindowField,
} from '../rollout-staging';

function subcommand(parent: Command, name: string): Command {
  const found = parent.commands.find((c) => c.name() === name);
  if (!found) throw new UsageError(`internal: no "${name}" command to extend`);
  return found;
}

/**
 * The rollout controls on the existing command tree: `upgrade-profile pre-checks|no-pre-checks|
 * fallback|no-fallback|download-window|reboot-window|no-…-window` and `upgrade campaign start-at`.
 */
export function registerRolloutCommands(program: Command, ctx: CliContext): void {
  const profile = subcommand(program, 'upgrade-profile');
  const toggle = (
    name: string,
    description: string,
    apply: (c: StagedConfig) => StagedConfig,
    said: string,
  ) =>
    withExamples(
      profile
        .command(name)
        .description(description)
        .action(function (this: Command) {
          edit(ctx, this, apply, said);
        }),
      `ciu upgrade-profile ${name}`,
    );
  toggle(
    'pre-checks',
    'before any download check model, target partition and free flash (`show storage`) (default)',
    (c) => setPreChecks(c, true),
    'pre-checks enabled',
  );
  toggle(
    'no-pre-checks',
    'download without the pre-checks',
    (c) => setPreChecks(c, false),
    'pre-checks disabled',
  );
  toggle(
    'fallback',
    'boot a controller that comes back on the wrong image back into its previous partition ("Rolled back")',
    (c) => setFallback(c, true),
    'fallback enabled',
  );
  toggle(
    'no-fallback',
    'report a wrong-version boot as Failed (default)',
    (c) => setFallback(c, false),
    'fallback disabled',
  );

  const windows: Array<[string, WindowField, string]> = [
    ['download', 'downloadWindow', 'when downloads may start; one under way when it closes finishes'],
    ['reboot', 'rebootWindow', 'when controllers may reload into the new image'],
  ];
  for (const [kind, field, what] of windows) {
    withExamples(
      profile
        .command(`${kind}-window <words...>`)
        .description(
          `${what}: HH:MM-HH:MM [days mon,tue,…] [time-zone <IANA zone>] (daily/weekly), or once <from> <until>`,
        )
        .action(function (this: Command, words: string[]) {
          edit(ctx, this, (c) => setWindow(c, field, words), `${kind}-window ${words.join(' ')}`);
        }),
      `ciu upgrade-profile ${kind}-window 02:00-05:00 time-zone Europe/Berlin`,
      `ciu upgrade-profile ${kind}-window 01:00-04:00 days sat,sun`,
      `ciu upgrade-profile ${kind}-window once 2026-12-01T02:00Z 2026-12-01T05:00Z`,
    );
    toggle(
      `no-${kind}-window`,
      `${kind}s at any time (default)`,
      (c) => removeWindow(c, field),
      `${kind}-window removed`,
    );
  }

  const campaign = subcommand(subcommand(program, 'upgrade'), 'campaign');
  withExamples(
    campaign
      .command('start-at <time>')
      .description('start nothing on any controller before this time (ISO 8601 with a zone); `now` clears it')
      .action(function (this: Command, time: string) {
        edit(ctx, this, (c) => setStartAt(c, time), time === 'now' ? 'start-at cleared' : `start-at ${time}`);
      }),
    'ciu upgrade campaign start-at 2026-12-01T02:00:00Z',
  );
}

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
      .action(async function (this: Command) {
        const opts = this.opts<{
          committed?: boolean;
          running?: boolean;
          campaign?: string;
          inspect?: boolean;
          json?: boolean;
        }>();
        const { configDir, temporal } = globalOptions(this, ctx);
        let plan: CampaignPlan;
        if (opts.running) {
          const campaign = opts.campaign ?? loadStaged(configDir).campaign;
          const { upgradePlanQuery } = await import('../../../workflows/definitions');
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
          const result = validateCampaignConfig(input);
          if (!result.ok)
            throw new UsageError(
              `plan refused: the config has ${result.issues.length} problem(s)`,
              result.issues,
            );
          const facts = opts.inspect ? await inspectFleet(result.config, ctx) : {};
          plan = planCampaign(result.config, new Date(), facts);
        }
        ctx.io.out(opts.json ? `${JSON.stringify(plan, null, 2)}\n` : renderPlan(plan));
      }),
    'ciu show upgrade plan',
    'ciu show upgrade plan --inspect',
    'ciu show upgrade plan --running --json',
  );
}
