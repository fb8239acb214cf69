/** A duration as operators write it: a whole number and a unit, e.g. '15m', '30s', '500ms', '2h', '1d'. */
const durationPattern = /^(\d+)\s*(ms|s|m|h|d)$/;

const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * The longest duration ciu accepts: 365 days. Longer ones are typos, and past about 24.8 days a
 * value no longer fits the timers downstream; unbounded, '99999999999999999999999d' failed the
 * child's workflow task forever.
 */
export const maxDurationMs = 365 * unitMs.d;

/** Milliseconds for a duration string, or undefined when it is not one or is longer than maxDurationMs. */
export function parseDuration(text: string): number | undefined {
  const match = durationPattern.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  const ms = Number(amount) * unitMs[unit as keyof typeof unitMs];
  return ms <= maxDurationMs ? ms : undefined;
}
