import { validateCommittable } from '../domain/campaign-limits';
import type { StagedConfig } from './config-file';
import { UsageError } from './exit-codes';

/**
 * The staged config as the masterUpgrade input, or a UsageError listing every bad field. With a
 * config store (`byReference`) a config too large to travel inline may go by reference.
 */
export function validateStaged(staged: StagedConfig, byReference = false) {
  const { campaign: _campaign, ...input } = staged;
  const result = validateCommittable(input, byReference);
  if (!result.ok)
    throw new UsageError(
      `write memory refused: the staged config has ${result.issues.length} problem(s)`,
      result.issues,
    );
  return result.config;
}
