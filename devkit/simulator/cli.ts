import type { LogSeverity } from './controller-log';
import { resolveCommand, wordColumn, words, type CommandSpec, type Mode } from './command-tree';
import { CopySyntaxError, runCopy, type CopyContext } from './copy';
import type { Flash, PartitionImage } from './flash';
import type { Terminal } from './terminal';

/** One row of `show switches`, as a master knows its associated controllers. */
export interface SwitchRow {
  ip: string;
  name: string;
  type: 'master' | 'standby' | 'local';
  model: string;
  version: string;
  build: number;
  up: boolean;
  /** Configuration State column. */
  configState: string;
}

/** What the CLI needs from its controller. */
export interface CliContext extends CopyContext {
  hostname: string;
  /** ArubaOS major release whose prompt style it uses: 6 `(host) #`, 8 `(host) [mynode] #`. */
  aos: 6 | 8;
  /** What `enable` asks for. */
  enablePassword: string;
  /** When the controller last booted. */
  bootedAt: Date;
  /** `show switches`: this controller and the ones it knows. */
  switches(): SwitchRow[];
  /** Starts a reload once the session has printed its last words. */
  reload(): void;
}

/** One CLI session's state. */
export interface CliState {
  mode: Mode;
  paging: boolean;
}

/** Outcome of one command line: keep the session, or end it (logout, reload). */
export type CommandOutcome = 'continue' | 'close';

type CommandId =
  | 'enable'
  | 'disable'
  | 'exit'
  | 'logout'
  | 'end'
  | 'configure'
  | 'paging'
  | 'no-paging'
  | 'show-version'
  | 'show-image-version'
  | 'show-image-checksum'
  | 'show-switches'
  | 'show-log'
  | 'show-log-lines'
  | 'show-boot'
  | 'show-storage'
  | 'copy'
  | 'boot-partition'
  | 'reload'
  | 'write-memory'
  | 'logging-message';

const anyMode: Mode[] = ['user', 'enable', 'config'];
const privileged: Mode[] = ['enable'];

const commandSpecs: CommandSpec<CommandId>[] = [
  { id: 'enable', words: ['enable'], modes: ['user'] },
  { id: 'disable', words: ['disable'], modes: privileged },
  { id: 'exit', words: ['exit'], modes: anyMode },
  { id: 'logout', words: ['logout'], modes: ['user', 'enable'] },
  { id: 'end', words: ['end'], modes: ['config'] },
  { id: 'configure', words: ['configure', 'terminal'], modes: privileged },
  { id: 'paging', words: ['paging'], modes: privileged },
  { id: 'no-paging', words: ['no', 'paging'], modes: privileged },
  { id: 'show-version', words: ['show', 'version'], modes: anyMode },
  { id: 'show-image-version', words: ['show', 'image', 'version'], modes: anyMode },
  {
    id: 'show-image-checksum',
    words: ['show', 'image', 'checksum', 'partition', '<value>'],
    modes: privileged,
  },
  { id: 'show-switches', words: ['show', 'switches'], modes: privileged },
  { id: 'show-log', words: ['show', 'log', 'system'], modes: privileged },
  { id: 'show-log-lines', words: ['show', 'log', 'system', '<value>'], modes: privileged },
  { id: 'show-boot', words: ['show', 'boot'], modes: privileged },
  { id: 'show-storage', words: ['show', 'storage'], modes: privileged },
  { id: 'copy', words: ['copy', '<rest>'], modes: privileged },
  { id: 'boot-partition', words: ['boot', 'system', 'partition', '<value>'], modes: privileged },
  { id: 'reload', words: ['reload'], modes: privileged },
  { id: 'write-memory', words: ['write', 'memory'], modes: privileged },
  { id: 'logging-message', words: ['logging', 'message', '<rest>'], modes: privileged },
];

const invalidMarker = "% Invalid input detected at '^' marker.";

/** The ArubaOS prompt for a mode, e.g. "(A7210-127.20.0.5) #", "(A7210-127.20.0.5) [mynode] (config) #". */
export function prompt(ctx: Pick<CliContext, 'hostname' | 'aos'>, mode: Mode): string {
  const node = ctx.aos === 8 ? ' [mynode]' : '';
  if (mode === 'user') return `(${ctx.hostname})${node} >`;
  return `(${ctx.hostname})${node}${mode === 'config' ? ' (config)' : ''} #`;
}

/** The caret line under column `at` of the typed line, then ArubaOS's refusal. */
function refusal(ctx: CliContext, state: CliState, line: string, at: number): string {
  return `${' '.repeat(prompt(ctx, state.mode).length + at)}^\n${invalidMarker}\n`;
}

/** Runs one command line of the simulated controller CLI. */
export async function executeCommand(
  line: string,
  terminal: Terminal,
  ctx: CliContext,
  state: CliState,
): Promise<CommandOutcome> {
  const typed = words(line);
  if (typed.length === 0) return 'continue';
  const found = resolveCommand(typed, commandSpecs, state.mode);
  if (!found.ok) {
    if (found.error === 'incomplete') terminal.write('% Incomplete command.\n');
    else if (found.error === 'ambiguous') terminal.write(`% Ambiguous command: "${line.trim()}"\n`);
    else terminal.write(refusal(ctx, state, line, wordColumn(line, found.at)));
    return 'continue';
  }
  const show = (text: string): Promise<void> => terminal.page(text, state.paging);
  switch (found.id) {
    case 'enable': {
      const password = await terminal.ask('Password:');
      if (password === ctx.enablePassword) state.mode = 'enable';
      else terminal.write('% Bad passwords\n');
      return 'continue';
    }
    case 'disable':
      state.mode = 'user';
      return 'continue';
    case 'exit':
      if (state.mode === 'config') {
        state.mode = 'enable';
        return 'continue';
      }
      return 'close';
    case 'logout':
      return 'close';
    case 'end':
      state.mode = 'enable';
      return 'continue';
    case 'configure':
      state.mode = 'config';
      terminal.write('Enter Configuration commands, one per line. End with CNTL/Z\n\n');
      return 'continue';
    case 'paging':
      state.paging = true;
      return 'continue';
    case 'no-paging':
      state.paging = false;
      return 'continue';
    case 'show-version':
      await show(showVersion(ctx));
      return 'continue';
    case 'show-image-version':
      await show(showImageVersion(ctx.flash));
      return 'continue';
    case 'show-image-checksum': {
      const n = partitionWord(found.args[0]);
      if (n === undefined) terminal.write(refusal(ctx, state, line, wordColumn(line, 4)));
      else {
        const sha = await ctx.flash.actualSha256(n);
        terminal.write(sha ? `Partition 0:${n} SHA-256 : ${sha}\n` : `Partition 0:${n}: None\n`);
      }
      return 'continue';
    }
    case 'show-switches':
      await show(showSwitches(ctx.switches()));
      return 'continue';
    case 'show-log':
    case 'show-log-lines': {
      const n = found.args[0] === undefined ? 100 : Number(found.args[0]);
      if (!/^\d+$/.test(found.args[0] ?? '100') || n < 1 || n > 10_000) {
        terminal.write(refusal(ctx, state, line, wordColumn(line, 3)));
        return 'continue';
      }
      const lines = await ctx.log.tail(n);
      await show(lines.length ? `${lines.join('\n')}\n` : '');
      return 'continue';
    }
    case 'show-boot':
      terminal.write(`\nConfig File: default.cfg\nBoot Partition: PARTITION ${ctx.flash.bootPartition}\n`);
      return 'continue';
    case 'show-storage':
      await show(showStorage(ctx));
      return 'continue';
    case 'copy':
      try {
        await runCopy(found.args, terminal, ctx);
      } catch (err) {
        if (!(err instanceof CopySyntaxError)) throw err;
        terminal.write(refusal(ctx, state, line, wordColumn(line, err.word + 1)));
      }
      return 'continue';
    case 'boot-partition': {
      const n = partitionWord(found.args[0]);
      if (n === undefined) terminal.write(refusal(ctx, state, line, wordColumn(line, 3)));
      else if (!ctx.flash.partition(n))
        terminal.write(`Error: partition ${n} does not contain a valid image\n`);
      else {
        await ctx.flash.setBootPartition(n);
        await ctx.log.write('info', 'cli', `Boot partition set to ${n}`);
      }
      return 'continue';
    }
    case 'reload': {
      const answer = await terminal.ask('Do you really want to reset the system(y/n):');
      if (answer.trim().toLowerCase() !== 'y') return 'continue';
      await ctx.log.write('info', 'cli', 'Reload requested from the CLI');
      terminal.write('System will now restart!\n');
      ctx.reload();
      return 'close';
    }
    case 'write-memory':
      terminal.write('\nSaving Configuration...\n\nConfiguration Saved.\n');
      return 'continue';
    case 'logging-message': {
      const [level, text, ...extra] = found.args;
      const severities: LogSeverity[] = ['error', 'warning', 'info'];
      if (!severities.includes(level as LogSeverity) || text === undefined || extra.length > 0) {
        terminal.write(
          refusal(ctx, state, line, wordColumn(line, severities.includes(level as LogSeverity) ? 4 : 2)),
        );
        return 'continue';
      }
      await ctx.log.write(level as LogSeverity, 'ciu', text);
      return 'continue';
    }
  }
}

function partitionWord(word: string | undefined): 0 | 1 | undefined {
  if (word === '0') return 0;
  if (word === '1') return 1;
  return undefined;
}

/** "A7210" → "Aruba7210", "M3" → "ArubaM3". */
export function arubaModelName(model: string): string {
  return `Aruba${model.replace(/^A(?=\d)/, '')}`;
}

/** Built-on stamp of an image: fixed per build, so the same image always prints the same line. */
function builtOn(build: number): string {
  const day = new Date(Date.UTC(2020, 0, 1) + (build % 1500) * 86_400_000);
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][day.getUTCDay()];
  const month = day.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  return `${weekday} ${month} ${day.getUTCDate()} 12:00:00 UTC ${day.getUTCFullYear()}`;
}

function showVersion(ctx: CliContext): string {
  const image = ctx.flash.running;
  const up = Math.floor((Date.now() - ctx.bootedAt.getTime()) / 1000);
  return [
    'Aruba Operating System Software.',
    `ArubaOS (MODEL: ${arubaModelName(ctx.model)}), Version ${image.version}`,
    'Website: http://www.arubanetworks.com',
    '(c) Copyright 2020 Hewlett Packard Enterprise Development LP.',
    `Compiled on 2020-01-01 at 00:00:00 UTC (build ${image.build}) by p4build`,
    '',
    `Switch uptime is ${Math.floor(up / 86400)} days ${Math.floor(up / 3600) % 24} hours ${Math.floor(up / 60) % 60} minutes ${up % 60} seconds`,
    'Reboot Cause: User reboot.',
    '',
  ].join('\n');
}

/** Padded label, colon, value: the layout of ArubaOS's `show image version`. */
const field = (label: string, value: string): string => `${label.padEnd(24)}: ${value}`;

function partitionBlock(n: 0 | 1, image: PartitionImage | undefined, flash: Flash): string[] {
  const marks = [
    flash.bootPartition === n ? ' **Default boot**' : '',
    flash.runningPartition === n ? ' **Running**' : '',
  ].join('');
  const device = `/dev/usb/flash${n + 1}`;
  const head = field('Partition', `0:${n} (${device})${marks}`);
  if (!image) return [head, `${device}: None`];
  return [
    head,
    field('Software Version', `ArubaOS ${image.version} (Digitally Signed SHA1/SHA256 - Production Build)`),
    field('Build number', String(image.build)),
    field('Label', String(image.build)),
    field('Built on', builtOn(image.build)),
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

/** A size as `df -h` prints it: "241.6M", "1.8G", "4.0K", "0". */
function dfSize(bytes: number): string {
  if (bytes < 1024) return String(bytes);
  const units = ['K', 'M', 'G', 'T'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)}${units[unit]}`;
}

const flashSize = 1.8 * 1024 ** 3;
/** What the system itself keeps on /flash besides the images (config, logs, AP images). */
const flashBase = 112 * 1024 ** 2;

/**
 * `show storage`: ArubaOS's file systems, `df` style. /flash holds what a copy stages; with the
 * flash-full fault only 1 KiB is left on it.
 */
function showStorage(ctx: CliContext): string {
  const images = ([0, 1] as const).reduce<number>(
    (sum, n) => sum + (ctx.flash.partition(n)?.payloadLength ?? 0),
    0,
  );
  const used = ctx.faults.flashFull ? flashSize - 1024 : flashBase + images;
  const row = (fs: string, size: number, usedBytes: number, mount: string): string =>
    [
      fs.padEnd(20),
      dfSize(size).padStart(9),
      dfSize(usedBytes).padStart(9),
      dfSize(size - usedBytes).padStart(9),
      `${Math.round((usedBytes / size) * 100)}%`.padStart(4),
      mount,
    ].join(' ');
  return [
    'Filesystem                Size      Used Available Use% Mounted on',
    row('none', 60 * 1024 ** 2, 2.4 * 1024 ** 2, '/tmp'),
    row('/dev/usbdisk/part1', flashSize, used, '/flash'),
    '',
  ].join('\n');
}

const switchColumns = [
  'IP Address',
  'IPv6 Address',
  'Name',
  'Location',
  'Type',
  'Model',
  'Version',
  'Status',
  'Configuration State',
  'Config Sync Time (sec)',
  'Config ID',
] as const;

function showSwitches(rows: SwitchRow[]): string {
  const cells = rows.map((row) => [
    row.ip,
    'None',
    row.name,
    'Building1.floor1',
    row.type,
    arubaModelName(row.model),
    `${row.version}_${row.build}`,
    row.up ? 'up' : 'down',
    row.configState,
    '0',
    '12',
  ]);
  const widths = switchColumns.map((label, i) =>
    Math.max(label.length, ...cells.map((c) => c[i]?.length ?? 0)),
  );
  const format = (values: readonly string[]): string =>
    values
      .map((value, i) => value.padEnd((widths[i] ?? 0) + 2))
      .join('')
      .trimEnd();
  return [
    '',
    'All Switches',
    '------------',
    format(switchColumns),
    format(switchColumns.map((label) => '-'.repeat(label.length))),
    ...cells.map(format),
    '',
    `Total Switches:${rows.length}`,
    '',
  ].join('\n');
}
