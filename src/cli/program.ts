import { Command, CommanderError } from 'commander';
import { registerCampaignCommands } from './commands/campaign';
import { registerCodecCommands } from './commands/codec';
import { registerDiscoverCommand } from './commands/discover';
import {
  registerInventoryCommands,
  registerProfileCommands,
  registerTargetCommands,
} from './commands/staged';
import { registerImageCommands } from './commands/image';
import { registerRuntimeCommands } from './commands/runtime';
import { registerSimulateCommand } from './commands/simulate';
import { registerStartCommand } from './commands/start';
import { registerTemporalCommand, runTemporalCli } from './commands/temporal';
import { withExamples, type CliContext } from './context';
import { CliError, exitCodes } from './exit-codes';

/** The `ciu` command tree. Commands stage config, commit it, watch it, and run the pieces (worker, simulator, demo). */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('ciu')
    .description(
      'Centralized Image Upgrade: firmware upgrades for fleets of controllers, as durable Temporal workflows',
    )
    .option('--address <host:port>', 'Temporal frontend (default: $TEMPORAL_ADDRESS or 127.0.0.1:7233)')
    .option('--namespace <name>', 'Temporal namespace (default: $TEMPORAL_NAMESPACE or default)')
    .option('--config-dir <dir>', "the master's config directory (default: $CIU_HOME or ./.ciu)")
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.io.out(s), writeErr: (s) => ctx.io.err(s) })
    .showHelpAfterError('(add --help for usage and an example)')
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 runtime failure, 2 usage or validation error, 3 failed controllers (--exit-status), 4 no such campaign.

Example:
  $ ciu upgrade-profile model A7210 image-file ArubaOS_72xx_6.5.1.0_12345 server 10.0.0.5 protocol ftp credentials image-ftp
  $ ciu upgrade target add 10.1.4.0/24
  $ ciu write memory
  $ ciu show upgrade status --watch
`,
    );
  registerProfileCommands(program, ctx);
  const upgrade = withExamples(
    program.command('upgrade').description('the campaign name and its targets'),
    'ciu upgrade target add 10.1.4.0/24',
  );
  const target = withExamples(
    upgrade.command('target').description('targets: controller IPs, subnets or all'),
    'ciu upgrade target add 10.1.4.17',
    'ciu upgrade target purge all',
  );
  registerTargetCommands(upgrade, target, ctx);
  registerInventoryCommands(program, ctx);
  registerDiscoverCommand(program, ctx);
  registerCampaignCommands(program, target, ctx);
  registerRuntimeCommands(program, ctx);
  registerImageCommands(program, ctx);
  registerSimulateCommand(program, ctx);
  registerStartCommand(program, ctx);
  registerTemporalCommand(program, ctx);
  registerCodecCommands(program, ctx);
  return program;
}

/** Turns any error into a message and an exit code. */
export async function exitCodeFor(err: unknown, ctx: CliContext): Promise<number> {
  if (err instanceof CommanderError) {
    return err.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
  }
  if (err instanceof CliError) {
    ctx.io.err(`ciu: ${err.message}\n`);
    return err.exitCode;
  }
  // Only a command that reached Temporal can fail with its errors, and it has loaded the client already.
  const { WorkflowNotFoundError, WorkflowUpdateFailedError } = await import('@temporalio/client');
  if (err instanceof WorkflowNotFoundError) {
    ctx.io.err(`ciu: no such campaign: ${err.workflowId} (commit one with \`ciu write memory\`)\n`);
    return exitCodes.notFound;
  }
  if (err instanceof WorkflowUpdateFailedError) {
    ctx.io.err(`ciu: the campaign refused the config: ${err.cause?.message ?? err.message}\n`);
    return exitCodes.usage;
  }
  ctx.io.err(`ciu: ${err instanceof Error ? err.message : String(err)}\n`);
  return exitCodes.failure;
}

/** Runs one command line (without node and script) and returns the exit code. */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  try {
    if (argv[0] === 'temporal') return await runTemporalCli(argv.slice(1), ctx);
    await buildProgram(ctx).parseAsync([...argv], { from: 'user' });
    return exitCodes.ok;
  } catch (err) {
    return await exitCodeFor(err, ctx);
  }
}
