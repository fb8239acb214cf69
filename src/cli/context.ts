import type { Command } from 'commander';
import { defaultTemporalTarget, type TemporalTarget } from './client';
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

/** Global options, resolved: the master's config directory and the Temporal frontend. */
export interface GlobalOptions {
  configDir: string;
  temporal: TemporalTarget;
}

export function globalOptions(command: Command, ctx: CliContext): GlobalOptions {
  const opts = command.optsWithGlobals<{ configDir?: string; address?: string; namespace?: string }>();
  const defaults = defaultTemporalTarget(ctx.env);
  return {
    configDir: configDir(opts.configDir, ctx.env),
    temporal: {
      ...defaults,
      address: opts.address ?? defaults.address,
      namespace: opts.namespace ?? defaults.namespace,
    },
  };
}

/** Adds an "Example" section to a command's --help. */
export function withExamples(command: Command, ...examples: string[]): Command {
  return command.addHelpText(
    'after',
    `\nExample${examples.length > 1 ? 's' : ''}:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`,
  );
}
