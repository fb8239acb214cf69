/**
 * The operator's controls of a running campaign — pause, resume, retry — as the master's Updates
 * take them: each request is checked here (validators and the CLI alike), naming the field at fault.
 */
import { z } from 'zod';
import { boundIssues } from './bounded';
import { validate } from './config';
import { parseSelector } from './targets';

const selector = z.string('must be a string').refine((s) => parseSelector(s) !== undefined, {
  error: (issue) => `"${String(issue.input).slice(0, 100)}" is not an IPv4 address, a CIDR subnet or all`,
});
/** A list of 1–100 selectors (IPv4 address, CIDR subnet or all). */
export const selectorsSchema = z
  .array(selector, 'must be a list of selectors (IPv4 address, CIDR subnet or all)')
  .min(1, 'must name at least one selector')
  .max(100, 'must be at most 100 selectors');

/** pauseCampaign: without selectors the whole campaign (targets added later too), else the controllers they match. */
export const pauseRequestSchema = z.strictObject({
  selectors: selectorsSchema.optional(),
  /** Stop the downloads of paused controllers now; they go back to waiting for a slot. Default: let them finish. */
  abortDownloads: z.boolean('must be true or false').optional(),
});

/** resumeCampaign: without selectors everything (and a failure-budget halt), else the paused controllers they match. */
export const resumeRequestSchema = z.strictObject({ selectors: selectorsSchema.optional() });

/** retryTargets: failed, pre-check-failed, rolled-back and purged targets the selectors match start again. */
export const retryRequestSchema = z.strictObject({ selectors: selectorsSchema });

export type PauseRequest = z.infer<typeof pauseRequestSchema>;
export type ResumeRequest = z.infer<typeof resumeRequestSchema>;
export type RetryRequest = z.infer<typeof retryRequestSchema>;

/** A validated request, or an Error naming each bad field (what an Update validator throws). */
export function checkRequest<S extends z.ZodType>(schema: S, input: unknown, name: string): z.output<S> {
  const result = validate(schema, input ?? {}, name);
  if (!result.ok) throw new Error(`${name} refused: ${boundIssues(result.issues)}`);
  return result.value;
}

/** What pauseCampaign answers. */
export interface PauseResult {
  /** True when the whole campaign is paused now. */
  campaign: boolean;
  /** Targets paused by this call (all targets when the whole campaign is). */
  paused: string[];
  /** Controllers whose downloads are being stopped. */
  aborting: string[];
  /** Selectors that matched no target. */
  matchingNoTarget: string[];
}

/** What resumeCampaign answers. */
export interface ResumeResult {
  /** Targets no longer paused. */
  resumed: string[];
  /** The failure-budget halt this resume cleared (a whole-campaign resume clears it). */
  clearedHalt?: string;
  /** Still halted: a resume of some controllers does not clear a budget halt. */
  stillHalted?: string;
  matchingNoTarget: string[];
}

/** What retryTargets answers. */
export interface RetryResult {
  /** Targets that start again. */
  retried: string[];
  /** Matching targets left alone, with their state (only failed, pre-check-failed, rolled-back and purged ones retry). */
  skipped: Array<{ ip: string; state: string }>;
  matchingNoTarget: string[];
  /** Why the retried ones do not start yet, when the campaign is halted or they are paused. */
  heldBy?: string;
}
