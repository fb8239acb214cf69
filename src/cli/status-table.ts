import Table from 'cli-table3';
import { controllerStates, stateLabels, type ControllerStatus } from '../domain/status';

/** Options for rendering `show upgrade status`. */
export interface StatusTableOptions {
  /** Clock for "in 12m" next-retry hints. Default: now. */
  now?: Date;
  /** Longest last-error text shown; the rest is cut with '…'. Default 60 (--json has it all). */
  errorWidth?: number;
  /** The profile's quick tries per cycle, for "attempt 2/3"; unknown = "attempt 2". */
  quickTries?: number;
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

function cut(text: string, width: number): string {
  const line = oneLine(text);
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

/** States that end well: an error a controller reported on the way there is history, not a current problem. */
const settledWell: readonly ControllerStatus['state'][] = [
  'upgraded',
  'up-to-date',
  'downloaded-reboot-required',
];

function lastErrorText(c: ControllerStatus, width: number): string {
  if (!c.lastError) return '-';
  return settledWell.includes(c.state) ? cut(`earlier: ${c.lastError}`, width) : cut(c.lastError, width);
}

/** The ArubaOS-style state text, with the try and progress while downloading. */
export function stateText(status: ControllerStatus, quickTries?: number): string {
  const label = stateLabels[status.state] ?? status.state;
  if (status.state !== 'downloading') return label;
  const of = quickTries === undefined ? '' : `/${quickTries}`;
  const attempt = status.attempt !== undefined ? ` attempt ${status.attempt}${of}` : '';
  return `${label}${attempt}${percent(status.bytes, status.totalBytes)}`;
}

/** One row per controller: IP, model, role, running and target version, state, attempts, next retry, last error. */
export function renderStatusTable(
  controllers: readonly ControllerStatus[],
  options: StatusTableOptions = {},
): string {
  const now = options.now ?? new Date();
  const errorWidth = options.errorWidth ?? 60;
  const table = new Table({
    head: ['IP', 'Model', 'Role', 'Running', 'Target', 'State', 'Attempts', 'Next retry', 'Last error'],
    style: { head: [], border: [] },
    // One line per controller, no rules between rows: a fleet fits on a screen.
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const c of controllers) {
    table.push([
      c.ip,
      c.model,
      c.role,
      version(c.runningVersion, c.runningBuild),
      version(c.targetVersion, c.targetBuild),
      stateText(c, options.quickTries),
      String(c.attempts),
      c.state === 'waiting-retry' && c.nextRetryAt ? relative(c.nextRetryAt, now) : '-',
      lastErrorText(c, errorWidth),
    ]);
  }
  return table.toString();
}

/** Controllers per state, in lifecycle order, e.g. "2 Upgraded, 1 Waiting for retry". */
export function stateCounts(controllers: readonly ControllerStatus[]): string {
  const counts = controllerStates
    .map((state) => ({ state, n: controllers.filter((c) => c.state === state).length }))
    .filter(({ n }) => n > 0)
    .map(({ state, n }) => `${n} ${stateLabels[state]}`);
  return counts.length ? counts.join(', ') : 'no controllers';
}
