import type { Command } from 'commander';
import type { CliContext } from '../context';

export function registerStartCommand(_program: Command, _ctx: CliContext): void {}
