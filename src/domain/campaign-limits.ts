/**
 * How large one campaign may be. One masterUpgrade workflow carries the committed config plus every
 * target's state across continue-as-new, starts at most a bounded number of children per run, and
 * Temporal refuses any payload over 2 MiB: a campaign over these limits is refused before it starts
 * (by `ciu write memory`, by masterUpgrade itself and by the commitConfig validator) instead of
 * starting and wedging.
 */
import type { CampaignConfig } from './types';
import { validateCampaignConfig, type ConfigValidation } from './config';
import { maxReferencedConfigBytes } from './config-ref';
import { campaignDialectIssues } from './dialects';
import { resolveTargets } from './targets';

/**
 * Targets one campaign may hold: what the bench has completed in one campaign on the dev server
 * (BENCH_SIZES=10000 npm run bench:orchestration, a worker restart mid-run included; README,
 * Performance). Its payloads fit (npm run bench:capacity: the carried state stored deflated in about
 * 330 KB, the result under 50 KB), each master run stays near 4,200 events, and replaying one took
 * about 3 s of the 10 s workflow-task timeout. Larger fleets need shards (README, 100,000 plan).
 */
export const maxCampaignTargets = 10_000;

/**
 * Bytes of the config as JSON (inventory and profile). `temporal workflow start --input` sends it
 * without a codec, so it has to fit Temporal's 2 MiB blob limit as plain JSON, with room for the
 * payload's own framing; ciu's clients and workers store it deflated (about 30 KB at 10,000).
 */
export const maxConfigBytes = 2_000_000;

/** UTF-8 length of a string, without Node's Buffer (workflows use this too). */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

const number = (n: number) => n.toLocaleString('en-US');

/**
 * Why `config` is too large for one campaign (empty when it fits), each naming the limit. A config
 * passed by reference (`byReference`) is bounded by maxReferencedConfigBytes instead of maxConfigBytes.
 */
export function campaignSizeIssues(config: CampaignConfig, byReference = false): string[] {
  const issues: string[] = [];
  const targets = resolveTargets(config.inventory, config.targets).controllers.length;
  if (targets > maxCampaignTargets)
    issues.push(
      `campaign too large: targets match ${number(targets)} controllers, the limit is ${number(maxCampaignTargets)} per campaign (one master workflow holds every target); split the fleet into campaigns, e.g. by subnet`,
    );
  const bytes = utf8Bytes(JSON.stringify(config));
  const [limit, why, remedy] = byReference
    ? [maxReferencedConfigBytes, ' for a config passed by reference', '']
    : [
        maxConfigBytes,
        " (the workflow's start input, under Temporal's 2 MiB payload limit as plain JSON)",
        'pass it by reference (CIU_CONFIG_STORE) or ',
      ];
  if (bytes > limit)
    issues.push(
      `campaign too large: the config is ${number(bytes)} bytes as JSON (${number(config.inventory.length)} inventory entries), the limit is ${number(limit)} bytes${why}; ${remedy}split the inventory into campaigns`,
    );
  return issues;
}

/**
 * A config as a commit takes it — its schema, its dialect rules and its size — or one message per
 * problem (`ciu write memory`, the commitConfig validator, a commit by reference).
 */
export function validateCommittable(input: unknown, byReference = false): ConfigValidation {
  const result = validateCampaignConfig(input);
  if (!result.ok) return result;
  const issues = [...campaignDialectIssues(result.config), ...campaignSizeIssues(result.config, byReference)];
  return issues.length > 0 ? { ok: false, issues } : result;
}
