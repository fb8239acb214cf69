/**
 * What an upgradeStatus query may ask for. The answer always carries the campaign's counts; the
 * controllers come as one bounded page (by offset, optionally only one state or one controller), so
 * no answer grows with the fleet: Temporal refuses a query answer over its payload limit.
 */
import { z } from 'zod';
import { validate, type Validation } from './config';
import { controllerStates, statusPageLimit } from './status';
import { isIPv4 } from './rules';

export { statusPageLimit };

export const statusRequestSchema = z.strictObject({
  /** Only this controller (IPv4). */
  controller: z.string('must be a string').refine(isIPv4, 'must be an IPv4 address').optional(),
  /** Only controllers in this state. */
  state: z.enum(controllerStates, `must be one of ${controllerStates.join(', ')}`).optional(),
  /** Matching controllers to skip. Default 0. */
  offset: z.number('must be a number').int('must be a whole number').min(0, 'must be 0 or more').optional(),
  /** Controllers in the page. Default and maximum statusPageLimit. */
  limit: z
    .number('must be a number')
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(statusPageLimit, `must be at most ${statusPageLimit}`)
    .optional(),
});

/** An upgradeStatus request (every field optional; no argument = the first page of all controllers). */
export type StatusRequest = z.infer<typeof statusRequestSchema>;

/** Validates a query's argument; `undefined` and `null` ask for the first page. */
export function validateStatusRequest(input: unknown): Validation<StatusRequest> {
  return validate(statusRequestSchema, input ?? {}, 'upgradeStatus request');
}
