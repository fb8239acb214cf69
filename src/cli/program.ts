import { Command, CommanderError } from 'commander';
import { noSuchCampaign } from './client';
import { withExamples, type CliContext } from './context';
import { CliError, exitCodes } from './exit-codes';

/**
 * The modules that define each top-level command. A command line loads only those of its first word
 * (help, or a word not listed here, loads all): `ciu show upgrade status`, repeated by operators and
 * scripts, then skips zod's schemas, ssh2 and the staging code (npm run bench:cli).
 */
const commandModules = {
  staged: { words: ['upgrade-profile', 'upgrade', 'inventory'], load: () => import('./commands/staged') },
  discover: { words: ['inventory'], load: () => import('./commands/discover') },
  campaign: { words: ['write', 'show', 'upgrade'], load: () => import('./commands/campaign') },
  rollout: { words: ['upgrade-profile', 'upgrade'], load: () => import('./commands/rollout') },
  plan: { words: ['show'], load: () => import('./commands/plan') },
  runtime: { words: ['worker'], load: () => import('./commands/runtime') },
  image: { words: ['image'], load: () => import('./commands/image') },
  simulate: { words: ['simulate'], load: () => import('./commands/simulate') },
  start: { words: ['start'], load: () => import('./commands/start') },
  temporal: { words: ['temporal'], load: () => import('./commands/temporal') },
  codec: { words: ['codec-server', 'keys'], load: () => import('./commands/codec') },
};

/** The first command word of a command line, if any: global options that take a value skip it. */
function commandWord(program: Command, argv: readonly string[]): string | undefined {
  const takesValue = new Set(
    program.options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short]),
  );
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (takesValue.has(arg)) i += 1;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/**
 * The `ciu` command tree. Commands stage config, commit it, watch it, and run the pieces (worker,
 * simulator, demo). Given the command line, only the commands it can reach are built.
 */
export async function buildProgram(ctx: CliContext, argv: readonly string[] = []): Promise<Command> {
  const program = new Command('ciu')
    .description(
      'Centralized Image Upgrade: firmware upgrades for fleets of controllers, as durable Temporal workflows',
    )
    .option('--address <host:port>', 'Temporal frontend (default: $TEMPORAL_ADDRESS or 127.0.0.1:7233)')
    .option('--namespace <name>', 'Temporal namespace (default: $TEMPORAL_NAMESPACE or default)')
    .option(
      '--profile <name>',
      'profile of the Temporal TOML file ($TEMPORAL_CONFIG_FILE) (default: $TEMPORAL_PROFILE or default)',
    )
    .option('--tls', 'TLS to Temporal with the system CAs (on by itself with any option below)')
    .option('--tls-ca <file>', 'PEM CA of the Temporal frontend (default: $TEMPORAL_TLS_SERVER_CA_CERT_PATH)')
    .option(
      '--tls-server-name <name>',
      'name in the frontend certificate (default: $TEMPORAL_TLS_SERVER_NAME)',
    )
    .option('--tls-cert <file>', 'PEM client certificate for mTLS (default: $TEMPORAL_TLS_CLIENT_CERT_PATH)')
    .option('--tls-key <file>', 'PEM key of --tls-cert (default: $TEMPORAL_TLS_CLIENT_KEY_PATH)')
    .option(
      '--api-key <key>',
      'API key, e.g. Temporal Cloud (default: $TEMPORAL_API_KEY; prefer it: flags show in ps)',
    )
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
  const word = commandWord(program, argv);
  const known = Object.values(commandModules).some((m) => m.words.includes(word ?? ''));
  const load = <T>(m: { words: string[]; load: () => Promise<T> }): Promise<T | undefined> =>
    !known || m.words.includes(word ?? '') ? m.load() : Promise.resolve(undefined);
  const [staged, discover, campaign, rollout, plan, runtime, image, simulate, start, temporal, codec] =
    await Promise.all([
      load(commandModules.staged),
      load(commandModules.discover),
      load(commandModules.campaign),
      load(commandModules.rollout),
      load(commandModules.plan),
      load(commandModules.runtime),
      load(commandModules.image),
      load(commandModules.simulate),
      load(commandModules.start),
      load(commandModules.temporal),
      load(commandModules.codec),
    ]);
  staged?.registerProfileCommands(program, ctx);
  const upgrade = withExamples(
    program.command('upgrade').description('the campaign name and its targets'),
    'ciu upgrade target add 10.1.4.0/24',
  );
  const target = withExamples(
    upgrade.command('target').description('targets: controller IPs, subnets or all'),
    'ciu upgrade target add 10.1.4.17',
    'ciu upgrade target purge all',
  );
  staged?.registerTargetCommands(upgrade, target, ctx);
  rollout?.registerRolloutCommands(program, ctx);
  staged?.registerInventoryCommands(program, ctx);
  discover?.registerDiscoverCommand(program, ctx);
  campaign?.registerCampaignCommands(program, target, ctx);
  plan?.registerPlanCommand(program, ctx);
  runtime?.registerRuntimeCommands(program, ctx);
  image?.registerImageCommands(program, ctx);
  simulate?.registerSimulateCommand(program, ctx);
  start?.registerStartCommand(program, ctx);
  temporal?.registerTemporalCommand(program, ctx);
  codec?.registerCodecCommands(program, ctx);
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
    ctx.io.err(`ciu: ${noSuchCampaign(err.workflowId)}\n`);
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
    if (argv[0] === 'temporal') {
      const { runTemporalCli } = await import('./commands/temporal');
      return await runTemporalCli(argv.slice(1), ctx);
    }
    await (await buildProgram(ctx, argv)).parseAsync([...argv], { from: 'user' });
    return exitCodes.ok;
  } catch (err) {
    return await exitCodeFor(err, ctx);
  }
}
