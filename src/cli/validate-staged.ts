import { validateCampaignConfig } from '../domain/config';
import { campaignSizeIssues } from '../domain/campaign-limits';
import { campaignDialectIssues } from '../domain/dialects';
import type { StagedConfig } from './config-file';
import { UsageError } from './exit-codes';

/**
 * The staged config as the masterUpgrade input, or a UsageError listing every bad field. With a
 * config store (`byReference`) a config too large to travel inline may go by reference.
 */
export function validateStaged(staged: StagedConfig, byReference = false) {
  const { campaign: _campaign, ...input } = staged;
  const result = validateCampaignConfig(input);
  const issues = result.ok
    ? [...campaignDialectIssues(result.config), ...campaignSizeIssues(result.config, byReference)]
    : result.issues;
  if (!result.ok || issues.length > 0)
    throw new UsageError(`write memory refused: the staged config has ${issues.length} problem(s)`, issues);
  return result.config;
}
