import type { Command } from 'commander';
import { UsageError } from './exit-codes';

/**
 * `pending`'s value, or undefined when it has not settled within `timeoutMs`. Only a worker answers
 * an Update; with none polling, Temporal keeps the caller waiting forever, so every Update the CLI
 * sends goes through this. A late rejection is then ignored.
 */
export async function answeredWithin<T>(pending: Promise<T>, timeoutMs: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const unanswered = new Promise<undefined>(
    (resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)),
  );
  const result = await Promise.race([pending, unanswered]).finally(() => clearTimeout(timer));
  if (result === undefined) pending.catch(() => undefined);
  return result;
}

/** Adds `--timeout <seconds>` (how long to wait for a worker's answer, default 30). */
export function withAnswerTimeout(command: Command): Command {
  return command.option('--timeout <seconds>', 'how long to wait for a worker to answer', '30');
}

/** The `--timeout` a command was given, in milliseconds; a UsageError unless it is a positive number. */
export function answerTimeoutMs(command: Command): number {
  const seconds = Number(command.opts<{ timeout: string }>().timeout);
  if (!(seconds > 0)) throw new UsageError('--timeout must be a positive number of seconds');
  return seconds * 1000;
}
