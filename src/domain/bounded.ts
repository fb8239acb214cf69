/**
 * Bounds on every text ciu builds from input or from what a device or server said: failure messages,
 * lastError, echoed selectors. Temporal refuses a workflow task whose failure exceeds 2 MiB (the task
 * then fails forever), and a status table or history full of one 10,000-character reply helps nobody.
 */

/** Longest single text (a failure message, a lastError, a selector echoed back). */
export const maxTextLength = 1_000;
/** Issues listed before "and N more". */
export const maxListedIssues = 10;

/** `text` cut to `max` characters, saying how much was left out. */
export function boundText(text: string, max = maxTextLength): string {
  if (text.length <= max) return text;
  const note = ` … (${text.length - max} more characters)`;
  return `${text.slice(0, Math.max(0, max - note.length))}${note}`;
}

/** The first issues (each bounded), then "and N more", joined with '; '. */
export function boundIssues(issues: readonly string[], maxListed = maxListedIssues): string {
  const listed = issues.slice(0, maxListed).map((issue) => boundText(issue, 200));
  const rest = issues.length - listed.length;
  return boundText(rest > 0 ? `${listed.join('; ')}; and ${rest} more` : listed.join('; '));
}
