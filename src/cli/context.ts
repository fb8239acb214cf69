import type { Command } from 'commander';
import type { TemporalConnectionFlags } from '../temporal/connection';
import type { TemporalTarget } from './client';
import { configDir } from './config-file';

/** Where command output goes; tests capture it, main.ts writes to stdout/stderr. */
export interface CliIo {
  /** Text for the operator. main.ts passes it through cleanText: no escape sequence in it reaches the terminal. */
  out(text: string): void;
  err(text: string): void;
  /** ciu's own terminal control (cursor moves, clearing), written as is; absent where output is captured. */
  control?(sequence: string): void;
}

/** What every command may use: its output streams and the process environment. */
export interface CliContext {
  io: CliIo;
  env: NodeJS.ProcessEnv;
}

/** Global options: the master's config directory, and the Temporal connection flags (resolved on use). */
export interface GlobalOptions {
  configDir: string;
  temporal: TemporalTarget;
}

const connectionFlags = [
  'address',
  'namespace',
  'profile',
  'tls',
  'tlsCa',
  'tlsServerName',
  'tlsCert',
  'tlsKey',
  'apiKey',
] as const satisfies ReadonlyArray<keyof TemporalConnectionFlags>;

export function globalOptions(command: Command, ctx: CliContext): GlobalOptions {
  const opts = command.optsWithGlobals<TemporalConnectionFlags & { configDir?: string }>();
  const temporal: TemporalTarget = { env: ctx.env };
  for (const flag of connectionFlags)
    if (opts[flag] !== undefined) Object.assign(temporal, { [flag]: opts[flag] });
  return { configDir: configDir(opts.configDir, ctx.env), temporal };
}

/** Adds an "Example" section to a command's --help. */
export function withExamples(command: Command, ...examples: string[]): Command {
  return command.addHelpText(
    'after',
    `\nExample${examples.length > 1 ? 's' : ''}:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`,
  );
}

/** Resolves on the first SIGINT or SIGTERM: a foreground command (simulator, codec server) runs until then. */
export function untilStopSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}
