/**
 * Waves and failure budgets: which controllers go in which wave, when a wave may open, and when
 * failures exceed a budget. Pure — the master's CampaignState, the plan and the CLI share it.
 */
import { z } from 'zod';
import { parseDuration } from './duration';
import { isKnownModel, knownModels, type ControllerModel } from './models';
import { parseSelector, selectorMatches } from './targets';

/** A budget: at most this many failures ('2'), or this share of the scope's controllers ('5%'). */
export type FailureBudget = number | `${number}%`;

const budgetPattern = /^(100|\d{1,2})(\.\d{1,2})?%$/;

/** `max-failures`: a whole number of failures, or a percentage 'N%' (0–100) of the wave's or campaign's controllers. */
export const failureBudgetSchema = z.union(
  [
    z.number().int('must be a whole number').min(0, 'must be >= 0'),
    z
      .string()
      .regex(budgetPattern, "must be a whole number or a percentage like '5%'")
      .refine((t) => Number.parseFloat(t) <= 100, 'must be at most 100%')
      .transform((t) => t as `${number}%`),
  ],
  "must be a whole number of failures or a percentage like '5%'",
);

const waveNamePattern = /^[a-z0-9][a-z0-9_-]{0,31}$/i;
/** The wave without a size or selector takes every targeted controller no earlier wave took. */
export const restWave = 'rest';

/** One wave of the profile, in order: how it picks its controllers, its soak time and its budget. */
export const waveSchema = z
  .strictObject({
    name: z
      .string('must be a string')
      .regex(waveNamePattern, 'must be 1-32 letters, digits, - or _, starting with a letter or digit'),
    /** The first N targeted controllers (inventory order) no earlier wave took. */
    count: z.number('must be a number').int('must be a whole number').min(1, 'must be >= 1').optional(),
    /** This share (rounded up) of all targeted controllers, from those no earlier wave took. */
    percent: z.number('must be a number').gt(0, 'must be > 0').max(100, 'must be <= 100').optional(),
    /** Every targeted controller in this CIDR subnet no earlier wave took. */
    subnet: z
      .string('must be a string')
      .refine((s) => parseSelector(s)?.kind === 'subnet', 'must be a CIDR subnet like 10.1.4.0/24')
      .optional(),
    model: z
      .string('must be a string')
      .refine(isKnownModel, `must be a known controller model (${knownModels.join(', ')})`)
      .optional(),
    role: z.enum(['local', 'standby'], "must be 'local' or 'standby'").optional(),
    /** Wait after this wave is done before the next one starts (a durable timer), e.g. '30m'. */
    soak: z
      .string('must be a string')
      .refine((d) => parseDuration(d) !== undefined, "must be a duration like '30m' (at most 365d)")
      .optional(),
    /** Failures this wave may have; one more halts the campaign. */
    maxFailures: failureBudgetSchema.optional(),
  })
  .superRefine((wave, ctx) => {
    const picks = (['count', 'percent', 'subnet', 'model', 'role'] as const).filter(
      (k) => wave[k] !== undefined,
    );
    if (picks.length > 1)
      ctx.addIssue({
        code: 'custom',
        path: [picks[1]!],
        message: `a wave picks by one of count, percent, subnet, model or role, not ${picks.join(' and ')}`,
      });
    if (picks.length > 0 && wave.name === restWave)
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: `'${restWave}' is the wave that takes the remaining controllers; it has no ${picks[0]}`,
      });
  });

export type Wave = z.infer<typeof waveSchema>;

/** The profile's waves: unique names, at most 20, a wave without size or selector only last. */
export const wavesSchema = z
  .array(waveSchema, 'must be a list of waves')
  .min(1, 'must name at least one wave')
  .max(20, 'must be at most 20 waves')
  .superRefine((waves, ctx) => {
    const seen = new Set<string>();
    waves.forEach((wave, index) => {
      if (seen.has(wave.name))
        ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `"${wave.name}" is named twice` });
      seen.add(wave.name);
      if (takesRest(wave) && index < waves.length - 1)
        ctx.addIssue({
          code: 'custom',
          path: [index],
          message: `wave "${wave.name}" takes all remaining controllers, so it must be the last wave`,
        });
    });
  });

/** The profile fields this module adds (spread into upgradeProfileSchema). */
export const waveFields = {
  /** Waves in order; absent: every target at once (limited by max-downloads). */
  waves: wavesSchema.optional(),
  /** Failures the whole campaign may have; one more halts it. */
  maxFailures: failureBudgetSchema.optional(),
};

function takesRest(wave: Wave): boolean {
  return (
    wave.count === undefined &&
    wave.percent === undefined &&
    wave.subnet === undefined &&
    wave.model === undefined &&
    wave.role === undefined
  );
}

/** What a wave is assigned from: a targeted controller. */
export interface WaveCandidate {
  ip: string;
  model: ControllerModel | string;
  role: 'local' | 'standby';
}

/** A wave with the controllers it got. */
export interface WaveMembers {
  name: string;
  members: string[];
  soakMs?: number;
  maxFailures?: FailureBudget;
}

/**
 * Splits the targeted controllers (inventory order) into the profile's waves, in order; those no
 * wave took form a last wave named 'rest'. Without waves: undefined (everything is one unnamed wave).
 */
export function assignWaves(
  waves: readonly Wave[] | undefined,
  targeted: readonly WaveCandidate[],
): WaveMembers[] | undefined {
  if (!waves || waves.length === 0) return undefined;
  let left = [...targeted];
  const assigned = waves.map((wave): WaveMembers => {
    let members: WaveCandidate[];
    if (wave.count !== undefined) members = left.slice(0, wave.count);
    else if (wave.percent !== undefined)
      members = left.slice(0, Math.ceil((wave.percent * targeted.length) / 100 - 1e-9));
    else if (wave.subnet !== undefined) {
      const subnet = parseSelector(wave.subnet);
      members = left.filter((c) => subnet !== undefined && selectorMatches(subnet, c.ip));
    } else if (wave.model !== undefined) members = left.filter((c) => c.model === wave.model);
    else if (wave.role !== undefined) members = left.filter((c) => c.role === wave.role);
    else members = left;
    const taken = new Set(members.map((c) => c.ip));
    left = left.filter((c) => !taken.has(c.ip));
    return {
      name: wave.name,
      members: members.map((c) => c.ip),
      ...(wave.soak === undefined ? {} : { soakMs: parseDuration(wave.soak) }),
      ...(wave.maxFailures === undefined ? {} : { maxFailures: wave.maxFailures }),
    };
  });
  if (left.length > 0) assigned.push({ name: restWave, members: left.map((c) => c.ip) });
  return assigned;
}

/** The most failures `budget` allows among `size` controllers. */
export function budgetLimit(budget: FailureBudget, size: number): number {
  if (typeof budget === 'number') return budget;
  return Math.floor((Number.parseFloat(budget) * size) / 100 + 1e-9);
}

/** Whether `failures` among `size` controllers exceed `budget`. */
export function budgetExceeded(budget: FailureBudget, failures: number, size: number): boolean {
  return failures > budgetLimit(budget, size);
}

/** '2' or '5% (1 of 20)', for status and plans. */
export function describeBudget(budget: FailureBudget, size: number): string {
  return typeof budget === 'number' ? String(budget) : `${budget} (${budgetLimit(budget, size)} of ${size})`;
}

/** A `max-failures` word as the CLI takes it: '2' or '5%'; undefined when it is neither. */
export function parseBudget(text: string): FailureBudget | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const parsed = failureBudgetSchema.safeParse(trimmed);
  return parsed.success ? parsed.data : undefined;
}
