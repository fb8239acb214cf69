/**
 * Maintenance windows: when a controller may download or reboot. Pure — the workflow passes in its
 * own (SDK) time and sleeps until the answer's `opensAt` on a durable timer. Wall-clock times are
 * read in the window's IANA time zone through Intl, so a 02:00 window stays at 02:00 across DST.
 */

/** Weekday names as the profile writes them. */
export const weekdays = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof weekdays)[number];

/** A window that repeats: every day, or on the listed weekdays, from `start` to `end` local time. */
export interface RecurringWindow {
  /** 'HH:MM', local time in `timeZone`. */
  start: string;
  /** 'HH:MM'; at or before `start` means the window runs past midnight (02:00–02:00 is a whole day). */
  end: string;
  /** Weekdays the window opens on (by its start); absent: every day. */
  days?: readonly Weekday[];
  /** IANA time zone. Default 'UTC'. */
  timeZone?: string;
}

/** A window that happens once: from and until are ISO 8601 instants with a zone ('Z' or ±HH:MM). */
export interface OneOffWindow {
  from: string;
  until: string;
}

export type MaintenanceWindow = RecurringWindow | OneOffWindow;

/** Where `now` stands relative to a window. `opensAt` undefined: a one-off window that is over. */
export type WindowState = { open: true; closesAt: Date } | { open: false; opensAt?: Date };

/** 'HH:MM' with hours 00–23 and minutes 00–59. */
export const clockPattern = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** An ISO 8601 instant with a date, a time and a zone, e.g. '2026-12-01T02:00:00Z' or '2026-12-01T02:00+01:00'. */
export const instantPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** Whether `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Whether `text` is an ISO 8601 instant with a zone that names a real moment. */
export function isInstant(text: string): boolean {
  return instantPattern.test(text) && !Number.isNaN(Date.parse(text));
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let found = formatters.get(zone);
  if (!found) {
    found = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, found);
  }
  return found;
}

/** The wall-clock fields of instant `ms` in `zone`. */
function wallClock(
  ms: number,
  zone: string,
): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const parts: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(new Date(ms)))
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  return {
    y: parts.year ?? 1970,
    mo: (parts.month ?? 1) - 1,
    d: parts.day ?? 1,
    h: parts.hour ?? 0,
    mi: parts.minute ?? 0,
    s: parts.second ?? 0,
  };
}

/** How far `zone` is ahead of UTC at instant `ms`, in ms. */
function offsetAt(ms: number, zone: string): number {
  const w = wallClock(ms, zone);
  return Date.UTC(w.y, w.mo, w.d, w.h, w.mi, w.s) - Math.floor(ms / 1000) * 1000;
}

/** The instant of local time y-mo-d h:mi in `zone` (a time skipped by DST moves forward with it). */
function zonedInstant(y: number, mo: number, d: number, h: number, mi: number, zone: string): number {
  const asUtc = Date.UTC(y, mo, d, h, mi);
  const first = asUtc - offsetAt(asUtc, zone);
  return asUtc - offsetAt(first, zone);
}

function minutesOf(clock: string): number {
  const m = clockPattern.exec(clock);
  return m ? Number(m[1]) * 60 + Number(m[2]) : 0;
}

/** The occurrences of a recurring window that could contain or follow `now`: a day back, eight ahead. */
function occurrences(window: RecurringWindow, now: number): Array<{ start: number; end: number }> {
  const zone = window.timeZone ?? 'UTC';
  const startMin = minutesOf(window.start);
  const length = ((minutesOf(window.end) - startMin + 1440 - 1) % 1440) + 1;
  const today = wallClock(now, zone);
  const found: Array<{ start: number; end: number }> = [];
  for (let offset = -1; offset <= 8; offset++) {
    const day = new Date(Date.UTC(today.y, today.mo, today.d + offset));
    const weekday = weekdays[day.getUTCDay()] as Weekday;
    if (window.days && !window.days.includes(weekday)) continue;
    const start = zonedInstant(
      day.getUTCFullYear(),
      day.getUTCMonth(),
      day.getUTCDate(),
      Math.floor(startMin / 60),
      startMin % 60,
      zone,
    );
    found.push({ start, end: start + length * 60_000 });
  }
  return found;
}

/** Whether `window` is open at `now`, and when it closes or next opens. No window: always open. */
export function windowState(window: MaintenanceWindow | undefined, now: Date): WindowState {
  const t = now.getTime();
  if (!window) return { open: true, closesAt: new Date(8.64e15) };
  if ('from' in window) {
    const from = Date.parse(window.from);
    const until = Date.parse(window.until);
    if (t >= from && t < until) return { open: true, closesAt: new Date(until) };
    return t < from ? { open: false, opensAt: new Date(from) } : { open: false };
  }
  const all = occurrences(window, t);
  const current = all.find((o) => o.start <= t && t < o.end);
  if (current) return { open: true, closesAt: new Date(current.end) };
  const next = all.find((o) => o.start > t);
  return next ? { open: false, opensAt: new Date(next.start) } : { open: false };
}

/** '02:00-05:00 Europe/Berlin mon,tue' or 'once 2026-12-01T02:00Z until 2026-12-01T05:00Z', for status and plans. */
export function describeWindow(window: MaintenanceWindow): string {
  if ('from' in window) return `once ${window.from} until ${window.until}`;
  const days = window.days ? ` ${window.days.join(',')}` : ' daily';
  return `${window.start}-${window.end} ${window.timeZone ?? 'UTC'}${days}`;
}
