import { validateCampaignConfig } from '../domain/config';
import { campaignDialectIssues } from '../domain/dialects';
import type { StagedConfig } from './config-file';
import { UsageError } from './exit-codes';

/** The staged config as the masterUpgrade input, or a UsageError listing every bad field. */
export function validateStaged(staged: StagedConfig) {
  const { campaign: _campaign, ...input } = staged;
  const result = validateCampaignConfig(input);
  const issues = result.ok ? campaignDialectIssues(result.config) : result.issues;
  if (!result.ok || issues.length > 0)
    throw new UsageError(`write memory refused: the staged config has ${issues.length} problem(s)`, issues);
  return result.config;
}
