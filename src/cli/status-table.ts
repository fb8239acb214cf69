import Table from 'cli-table3';
import { formatBytes } from '../domain/pre-checks';
import {
  controllerStates,
  countStates,
  stateLabels,
  type ControllerState,
  type ControllerStatus,
} from '../domain/status';

/** Options for rendering `show upgrade status`. */
export interface StatusTableOptions {
  /** Clock for "in 12m" next-retry hints. Default: now. */
  now?: Date;
  /**
   * Terminal width the table must fit: the last-error column wraps (never cut) to fit it. Default 120;
   * 0 = no limit, one line per controller (`--wide`).
   */
  width?: number;
  /** The profile's quick tries per cycle, for "attempt 2/3"; unknown = "attempt 2". */
  quickTries?: number;
  /** Bytes per second of each download in flight, by controller IP: adds a Progress column with bars. */
  rates?: ReadonlyMap<string, number>;
}

function version(v: string | undefined, build: number | undefined): string {
  if (!v) return '-';
  return build === undefined ? v : `${v} (${build})`;
}

function percent(bytes: number | undefined, total: number | undefined): string {
  if (bytes === undefined) return '';
  if (!total) return ` ${bytes} B`;
  return ` ${Math.floor((bytes / total) * 100)}%`;
}

function relative(iso: string, now: Date): string {
  const ms = Date.parse(iso) - now.getTime();
  if (Number.isNaN(ms)) return iso;
  const time = new Date(iso).toISOString().slice(11, 19);
  if (ms <= 0) return `${time} (due)`;
  const s = Math.round(ms / 1000);
  const span = s < 90 ? `${s}s` : s < 5400 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
  return `${time} (in ${span})`;
}

/** A device's or server's text on one line: a status screen line never breaks inside it. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** States that end well: an error a controller reported on the way there is history, not a current problem. */
const settledWell: readonly ControllerStatus['state'][] = [
  'upgraded',
  'up-to-date',
  'downloaded-reboot-required',
];

function lastErrorText(c: ControllerStatus): string {
  if (!c.lastError) return '-';
  return settledWell.includes(c.state) ? `earlier: ${oneLine(c.lastError)}` : oneLine(c.lastError);
}

/** 1536 → "1.5 KiB". */
export const byteSize = formatBytes;

/** `[######--------------] 1.2 MiB of 4.0 MiB, 850.0 KiB/s` — the rate only once it is known. */
export function progressBar(bytes: number, total: number | undefined, rate?: number, width = 20): string {
  const done = total ? Math.min(width, Math.floor((bytes / total) * width)) : 0;
  const bar = total ? `[${'#'.repeat(done)}${'-'.repeat(width - done)}] ` : '';
  const of = total ? ` of ${byteSize(total)}` : '';
  const speed = rate === undefined ? '' : `, ${byteSize(Math.round(rate))}/s`;
  return `${bar}${byteSize(bytes)}${of}${speed}`;
}

/** The ArubaOS-style state text, with the try and progress while downloading. */
export function stateText(status: ControllerStatus, quickTries?: number): string {
  const text = stateWords(status, quickTries);
  return status.paused ? `${text} (paused)` : text;
}

function stateWords(status: ControllerStatus, quickTries?: number): string {
  const label = stateLabels[status.state] ?? status.state;
  if (status.state === 'waiting-window' && status.windowOpensAt)
    return `${label}${status.window ? ` (${status.window})` : ''} until ${status.windowOpensAt.replace(/\.\d{3}Z$/, 'Z')}`;
  if (status.state === 'waiting-peer' && status.rebootHold) return `${label}: ${status.rebootHold.text}`;
  if (status.state !== 'downloading') return label;
  const of = quickTries === undefined ? '' : `/${quickTries}`;
  const attempt = status.attempt !== undefined ? ` attempt ${status.attempt}${of}` : '';
  return `${label}${attempt}${percent(status.bytes, status.totalBytes)}`;
}

/** Words of `text` in lines of at most `width` characters; a longer word is split, nothing is dropped. */
export function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (let word of text.replace(/\s+/g, ' ').trim().split(' ')) {
    while (word.length > width) {
      if (line) lines.push(line);
      lines.push(word.slice(0, width));
      word = word.slice(width);
      line = '';
    }
    if (!line) line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

/** The last error keeps this many characters a line before other columns start to wrap. */
const lastErrorRoom = 32;
/** ...and at least this many when the other columns cannot give more (a longer word is split). */
const lastErrorMinimum = 12;
/** A progress bar in the table: short enough that the table still fits 120 columns with its Progress column. */
const tableBarWidth = 10;

/**
 * Column widths (cell text plus one space of padding either side) that add up to at most `budget`: the
 * last column (the cause of a failure) narrows first, to `lastErrorRoom`; then the widest other column
 * gives up a character at a time, none below its longest word; then the last column again.
 */
function fitColumns(lines: readonly string[][], budget: number): number[] {
  const columns = lines[0]!.map((_, i) => lines.map((line) => line[i]!.replace(/\s+/g, ' ').trim()));
  const widths = columns.map((cells) => Math.max(...cells.map((c) => c.length)) + 2);
  const floors = columns.map(
    (cells) => Math.max(...cells.flatMap((c) => c.split(' ').map((w) => w.length))) + 2,
  );
  const last = widths.length - 1;
  const over = () => widths.reduce((a, b) => a + b, 0) - budget;
  const narrow = (i: number, floor: number) => {
    const by = Math.min(over(), widths[i]! - floor);
    if (by > 0) widths[i] = widths[i]! - by;
  };
  narrow(last, Math.max(floors[last]!, lastErrorRoom + 2));
  while (over() > 0) {
    let widest = -1;
    for (let i = 0; i < last; i += 1)
      if (widths[i]! > floors[i]! && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    if (widest < 0) break;
    widths[widest] = widths[widest]! - 1;
  }
  narrow(last, Math.min(floors[last]!, lastErrorMinimum + 2));
  return widths;
}

/**
 * One row per controller: IP, model, role, running and target version, state, (progress,) attempts,
 * next retry, last error. The last error wraps inside its column so the table fits `width`.
 */
export function renderStatusTable(
  controllers: readonly ControllerStatus[],
  options: StatusTableOptions = {},
): string {
  const now = options.now ?? new Date();
  const withProgress =
    options.rates !== undefined &&
    controllers.some((c) => c.state === 'downloading' && c.bytes !== undefined);
  // Only a campaign with waves has the column.
  const withWave = controllers.some((c) => c.wave !== undefined);
  const head = ['IP', 'Model', 'Role', 'Running', 'Target'];
  if (withWave) head.push('Wave');
  head.push('State');
  if (withProgress) head.push('Progress');
  head.push('Attempts', 'Next retry', 'Last error');
  const rows = controllers.map((c) => {
    const row = [
      c.ip,
      c.model,
      c.role,
      version(c.runningVersion, c.runningBuild),
      version(c.targetVersion, c.targetBuild),
      ...(withWave ? [c.wave ?? '-'] : []),
      stateText(c, options.quickTries),
    ];
    if (withProgress)
      row.push(
        c.state === 'downloading' && c.bytes !== undefined
          ? progressBar(c.bytes, c.totalBytes, options.rates?.get(c.ip), tableBarWidth)
          : '',
      );
    row.push(
      String(c.attempts),
      c.state === 'waiting-retry' && c.nextRetryAt
        ? relative(c.nextRetryAt, now)
        : c.state === 'waiting-window' && c.windowOpensAt
          ? relative(c.windowOpensAt, now)
          : '-',
      lastErrorText(c),
    );
    return row;
  });
  return fittedTable(head, rows, options.width ?? 120);
}

/**
 * A borderless-rows table of `head` and `rows` in at most `width` columns (0: no limit, one line per
 * row): cells wrap inside their column, the last one (a cause, a reason) first (fitColumns).
 */
export function fittedTable(head: string[], rows: string[][], width: number): string {
  const widths = width > 0 ? fitColumns([head, ...rows], width - (head.length + 1)) : undefined;
  const table = new Table({
    head: widths ? head.map((h, i) => wrap(h, widths[i]! - 2)) : head,
    style: { head: [], border: [] },
    // No rules between rows: a fleet fits on a screen, and a wrapped cause stays beside its controller.
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    ...(widths ? { colWidths: widths } : {}),
  });
  for (const row of rows) table.push(widths ? row.map((cell, i) => wrap(cell, widths[i]! - 2)) : row);
  return table.toString();
}

/** Controllers per state, in lifecycle order, e.g. "2 Upgraded, 1 Waiting for retry". */
export function stateCounts(controllers: readonly ControllerStatus[]): string {
  return countsText(countStates(controllers));
}

/** Counts per state (an upgradeStatus answer's `counts`) as stateCounts words them. */
export function countsText(counts: Partial<Record<ControllerState, number>>): string {
  const listed = controllerStates
    .map((state) => ({ state, n: counts[state] ?? 0 }))
    .filter(({ n }) => n > 0)
    .map(({ state, n }) => `${n.toLocaleString('en-US')} ${stateLabels[state]}`);
  return listed.length ? listed.join(', ') : 'no controllers';
}
