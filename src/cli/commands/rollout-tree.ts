import type { Command } from 'commander';
import { UsageError } from '../exit-codes';

/** An existing command of `parent` that the rollout commands extend. */
export function subcommand(parent: Command, name: string): Command {
  const found = parent.commands.find((c) => c.name() === name);
  if (!found) throw new UsageError(`internal: no "${name}" command to extend`);
  return found;
}
