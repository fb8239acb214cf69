import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { withExamples, type CliContext } from '../context';
import { loadDevkitBinaries } from '../dev-kit-loader';
import { CliError } from '../exit-codes';

/**
 * Runs the Temporal CLI that scripts/setup installed (TEMPORAL_CLI_PATH, else .tools/venv, else PATH) with
 * `args` as they are, its output into `ctx.io`; resolves to its exit code. This is what makes the
 * `temporal …` commands the README and the demo print work where `temporal` is not on PATH.
 */
export async function runTemporalCli(args: readonly string[], ctx: CliContext): Promise<number> {
  const { temporalCliPath } = await loadDevkitBinaries();
  return new Promise<number>((resolve, reject) => {
    const child = spawn(temporalCliPath(), args, { stdio: ['inherit', 'pipe', 'pipe'], env: ctx.env });
    child.stdout.on('data', (chunk: Buffer) => ctx.io.out(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => ctx.io.err(chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/**
 * `ciu temporal …`. runCli hands `ciu temporal …` over before parsing, so options such as --address
 * reach `temporal` instead of ciu's own; this entry covers `ciu --config-dir d temporal …` and --help.
 */
export function registerTemporalCommand(program: Command, ctx: CliContext): void {
  withExamples(
    program
      .command('temporal')
      .description("the Temporal CLI (scripts/setup's, in .tools/venv) with the arguments as given")
      .argument('[args...]', 'arguments for `temporal`')
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .action(async (args: string[]) => {
        const code = await runTemporalCli(args, ctx);
        if (code !== 0) throw new CliError(`temporal exited with code ${code}`);
      }),
    'ciu temporal workflow list --query \'CiuState="failed"\'',
    'ciu temporal workflow query --workflow-id spring-2026 --type upgradeStatus',
  );
}
