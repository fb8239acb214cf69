import { CommandValueError } from '../../src/device/validate';
import type { LogSeverity } from './controller-log';
import { runCopy, type CopyContext } from './copy';
import type { Flash, PartitionImage } from './flash';
import { tokenize, type Terminal } from './terminal';

/** What the CLI needs from its controller. */
export interface CliContext extends CopyContext {
  hostname: string;
  /** When the controller last booted. */
  bootedAt: Date;
  /** Starts a reload once the session has printed its last words. */
  reload(): void;
}

/** Outcome of one command line: keep the session, or end it (logout, reload). */
export type CommandOutcome = 'continue' | 'close';

const invalid = "% Invalid input detected at '^' marker.\n";

/** The ArubaOS-style prompt, e.g. "(A7210-127.20.0.5) #". */
export function prompt(ctx: Pick<CliContext, 'hostname'>): string {
  return `(${ctx.hostname}) #`;
}

/** Runs one command line of the simulated controller CLI. */
export async function executeCommand(
  line: string,
  terminal: Terminal,
  ctx: CliContext,
): Promise<CommandOutcome> {
  const words = tokenize(line);
  const command = words.slice(0, 3).join(' ');
  try {
    if (words.length === 0) return 'continue';
    if (['exit', 'logout', 'quit'].includes(line.trim())) return 'close';
    if (command === 'show version') terminal.write(showVersion(ctx));
    else if (command === 'show image version') terminal.write(showImageVersion(ctx.flash));
    else if (command === 'show image checksum' && words[3] === 'partition') {
      const n = partitionArg(words[4]);
      const sha = await ctx.flash.actualSha256(n);
      terminal.write(sha ? `Partition 0:${n} SHA-256 : ${sha}\n` : `Partition 0:${n}: None\n`);
    } else if (command === 'show boot')
      terminal.write(`Config File: default.cfg\nBoot Partition: PARTITION ${ctx.flash.bootPartition}\n`);
    else if (command === 'show log system') {
      const n = words[3] === undefined ? 100 : Number(words[3]);
      if (!Number.isInteger(n) || n < 1) throw new CommandValueError('lines', 'must be a positive integer');
      const lines = await ctx.log.tail(n);
      terminal.write(lines.length ? `${lines.join('\n')}\n` : '');
    } else if (words[0] === 'copy') await runCopy(words, terminal, ctx);
    else if (command === 'boot system partition') {
      const n = partitionArg(words[3]);
      if (!ctx.flash.partition(n)) terminal.write(`Error: partition ${n} does not contain a valid image\n`);
      else {
        await ctx.flash.setBootPartition(n);
        await ctx.log.write('info', 'cli', `Boot partition set to ${n}`);
      }
    } else if (command === 'reload' && words.length === 1) {
      const answer = await terminal.ask('Do you really want to reset the system(y/n):');
      if (answer.trim().toLowerCase() !== 'y') return 'continue';
      await ctx.log.write('info', 'cli', 'Reload requested from the CLI');
      terminal.write('System will now restart!\n');
      ctx.reload();
      return 'close';
    } else if (words[0] === 'logging' && words[1] === 'message' && words.length === 4) {
      const level = words[2] as LogSeverity;
      if (!['error', 'warning', 'info'].includes(level))
        throw new CommandValueError('level', 'must be error, warning or info');
      await ctx.log.write(level, 'ciu', words[3] ?? '');
    } else terminal.write(invalid);
  } catch (err) {
    if (err instanceof CommandValueError) terminal.write(`% Invalid input: ${err.message}\n`);
    else throw err;
  }
  return 'continue';
}

function partitionArg(word: string | undefined): 0 | 1 {
  if (word === '0' || word === '1') return Number(word) as 0 | 1;
  throw new CommandValueError('partition', 'must be 0 or 1');
}

/** "A7210" → "Aruba7210", "M3" → "ArubaM3". */
function arubaModelName(model: string): string {
  return `Aruba${model.replace(/^A(?=\d)/, '')}`;
}

function showVersion(ctx: CliContext): string {
  const image = ctx.flash.running;
  const up = Math.floor((Date.now() - ctx.bootedAt.getTime()) / 1000);
  return [
    'Aruba Operating System Software.',
    `ArubaOS (MODEL: ${arubaModelName(ctx.model)}), Version ${image.version}`,
    'Website: http://www.arubanetworks.com',
    'Copyright (c) 2002-2026, Aruba Networks, Inc.',
    `Compiled on 2026-01-01 at 00:00:00 UTC (build ${image.build}) by p4build`,
    '',
    `Switch uptime is ${Math.floor(up / 86400)} days ${Math.floor(up / 3600) % 24} hours ${Math.floor(up / 60) % 60} minutes ${up % 60} seconds`,
    'Reboot Cause: User reboot.',
    '',
  ].join('\n');
}

function partitionBlock(n: 0 | 1, image: PartitionImage | undefined, flash: Flash): string[] {
  const marks = [
    flash.bootPartition === n ? ' **Default boot**' : '',
    flash.runningPartition === n ? ' **Running**' : '',
  ].join('');
  const device = `/dev/usb/flash${n + 1}`;
  if (!image) return [`Partition               : 0:${n} (${device})${marks}`, `${device}: None`];
  return [
    `Partition               : 0:${n} (${device})${marks}`,
    `Software Version        : ArubaOS ${image.version} (Digitally Signed - Production Build)`,
    `Build number            : ${image.build}`,
    `Image type              : ${image.imageType}`,
    `Label                   : ${image.build}`,
    `Payload length          : ${image.payloadLength}`,
  ];
}

function showImageVersion(flash: Flash): string {
  const rule = '----------------------------------';
  return [
    rule,
    ...partitionBlock(0, flash.partition(0), flash),
    rule,
    ...partitionBlock(1, flash.partition(1), flash),
    rule,
    '',
  ].join('\n');
}
