/**
 * Retry after a campaign completed: a completed masterUpgrade takes no Update, so `retryTargets`
 * cannot reach it. A retry then starts a new run of the same campaign (workflow ID), with its last
 * committed config, seeded from the completed run's result: every controller keeps its final state,
 * and only the selected retryable ones start again, their attempts and errors carried on. This is the
 * rule the CLI and the workflow share: the input's schema, the one reading of a completed run's
 * result, and which controllers a retry starts.
 */
import { z } from 'zod';
import { selectorsSchema } from './campaign-control';
import { validate, type Validation } from './config';
import { isIPv4 } from './rules';
import { repeatedIps } from './schemas';
import { finalStates, stateLabels, type CampaignSummary, type ControllerState } from './status';
import { matchingIps } from './targets';

/** States a retry starts again (in a running campaign and after completion alike). */
export const retryableStates: readonly ControllerState[] = [
  'failed',
  'pre-check-failed',
  'rolled-back',
  'purged',
];

/** Errors of earlier runs a retried controller's status keeps. */
export const previousErrorsKept = 5;

const finalState = z
  .string('must be a string')
  .refine((s) => (finalStates as readonly string[]).includes(s), {
    error: (issue) =>
      `"${String(issue.input).slice(0, 40)}" is not a final state (${finalStates.join(', ')}): retry needs a completed run's result`,
  })
  .transform((s) => s as ControllerState);

const completedController = z.object({
  ip: z.string('must be a string').refine(isIPv4, 'must be an IPv4 address'),
  state: finalState,
  attempts: z.number('must be a number').int('must be a whole number').min(0, 'must be >= 0'),
  lastError: z.string('must be a string').optional(),
  previousErrors: z.array(z.string('must be a string'), 'must be a list of texts').optional(),
});

/**
 * The completed run's result (masterUpgrade's CampaignSummary, as `temporal workflow result` prints
 * it): fields beyond these are ignored, so the whole result may be passed.
 */
export const completedRunSchema = z
  .object({
    campaign: z.string('must be a string').optional(),
    outcome: z
      .literal('completed', {
        error: () =>
          'must be "completed": a run whose verification failed dispatched nothing; `ciu write memory` starts it again',
      })
      .optional(),
    controllers: z
      .array(completedController, 'must be a list of controllers')
      .min(1, 'must list the completed run’s controllers'),
  })
  .superRefine((run, ctx) => {
    const listed = repeatedIps(ctx);
    run.controllers.forEach((c, index) => listed(c.ip, ['controllers', index, 'ip']));
  });

/** masterUpgrade's `options.retry`: which controllers to start again, and the completed run they come from. */
export const completedRetrySchema = z.strictObject({
  selectors: selectorsSchema,
  previous: completedRunSchema,
});

export type CompletedRetry = z.input<typeof completedRetrySchema>;

/** One controller of the completed run, as the new run is seeded with it. */
export interface SeededController {
  ip: string;
  state: ControllerState;
  attempts: number;
  lastError?: string;
  previousErrors?: string[];
}

/**
 * The one place a completed run's result is read: each controller's final state, attempts and errors
 * (a change to CampaignSummary's shape is adapted here).
 */
export function seededControllers(previous: {
  controllers: ReadonlyArray<
    Pick<CampaignSummary['controllers'][number], 'ip' | 'state' | 'attempts' | 'lastError'> & {
      previousErrors?: string[];
    }
  >;
}): SeededController[] {
  return previous.controllers.map(({ ip, state, attempts, lastError, previousErrors }) => ({
    ip,
    state,
    attempts,
    ...(lastError === undefined ? {} : { lastError }),
    ...(previousErrors?.length ? { previousErrors: previousErrors.slice(-previousErrorsKept) } : {}),
  }));
}

/** A validated retry: the selectors and the seed. */
export interface ValidRetry {
  selectors: string[];
  controllers: SeededController[];
}

/**
 * Validates `options.retry` for campaign `campaign`, naming each bad field (`retry.selectors[0] …`,
 * `retry.previous.controllers[2].state …`); a result of another campaign is refused too.
 */
export function validateCompletedRetry(input: unknown, campaign: string): Validation<ValidRetry> {
  const result = validate(completedRetrySchema, input, 'retry');
  if (!result.ok) return result;
  const { selectors, previous } = result.value;
  if (previous.campaign !== undefined && previous.campaign !== campaign)
    return {
      ok: false,
      issues: [
        `retry.previous.campaign is "${previous.campaign.slice(0, 100)}": the result of another campaign, not of ${campaign}`,
      ],
    };
  return { ok: true, value: { selectors, controllers: seededControllers(previous) } };
}

/** What a retry of a completed run starts, and what it leaves alone (the retryTargets answer's shape). */
export interface RetrySelection {
  retried: string[];
  skipped: Array<{ ip: string; state: string }>;
  matchingNoTarget: string[];
}

/**
 * Which of the completed run's controllers `selectors` start again: retryable ones the config still
 * targets (`targeted`); the others are skipped with their state, as retryTargets does in a running campaign.
 */
export function retrySelection(
  controllers: readonly SeededController[],
  selectors: readonly string[],
  targeted: ReadonlySet<string>,
): RetrySelection {
  const ips = controllers.map((c) => c.ip);
  const byIp = new Map(controllers.map((c) => [c.ip, c]));
  const retried: string[] = [];
  const skipped: RetrySelection['skipped'] = [];
  for (const ip of matchingIps(ips, selectors)) {
    const { state } = byIp.get(ip)!;
    if (!retryableStates.includes(state)) skipped.push({ ip, state });
    else if (!targeted.has(ip)) skipped.push({ ip, state: `${state}, no longer targeted` });
    else retried.push(ip);
  }
  return {
    retried,
    skipped,
    matchingNoTarget: selectors.filter((s) => matchingIps(ips, [s]).length === 0),
  };
}

/** Why a retry starts nothing, in the operator's words (the CLI's refusal and the workflow's failure). */
export function nothingToRetry(selection: RetrySelection, campaign: string): string {
  const why = [
    ...selection.skipped.map((s) => `${s.ip} is ${describeState(s.state)}`),
    ...selection.matchingNoTarget.map((s) => `${s} matches no controller of the campaign`),
  ];
  return `nothing to retry in campaign ${campaign}: ${why.slice(0, 10).join('; ')}${why.length > 10 ? `; and ${why.length - 10} more` : ''} (only ${retryableStates.map((s) => stateLabels[s]).join(', ')} controllers start again)`;
}

function describeState(state: string): string {
  const [word, rest] = state.split(', ');
  const label = stateLabels[word as ControllerState];
  return label ? `${label}${rest ? `, ${rest}` : ''}` : state;
}
