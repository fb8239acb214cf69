/**
 * How large one campaign may be. One masterUpgrade workflow carries the committed config plus every
 * target's state across continue-as-new, and Temporal refuses any payload over 2 MiB: the task that
 * tries fails forever and the campaign wedges. A campaign over these limits is refused before it
 * starts (by `ciu write memory`, by masterUpgrade itself and by the commitConfig validator).
 */
import type { CampaignConfig } from './types';
import { resolveTargets } from './targets';

/**
 * Targets one campaign may hold. Measured: about 350 bytes of carried state per finished target, so
 * 3,000 targets plus a config at its limit carry about 1.6 MB — room under 2 MiB for error texts;
 * 4,000 completed at 88% of the limit with a payload warning on every continue-as-new.
 */
export const maxCampaignTargets = 3_000;

/** Bytes of the config as JSON (inventory and profile): it is the start input and part of every carried state. */
export const maxConfigBytes = 512 * 1024;

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

/** Why `config` is too large for one campaign (empty when it fits), each naming the limit. */
export function campaignSizeIssues(config: CampaignConfig): string[] {
  const issues: string[] = [];
  const targets = resolveTargets(config.inventory, config.targets).controllers.length;
  if (targets > maxCampaignTargets)
    issues.push(
      `campaign too large: targets match ${number(targets)} controllers, the limit is ${number(maxCampaignTargets)} per campaign (one master workflow carries every target's state under Temporal's 2 MiB payload limit); split the fleet into campaigns, e.g. by subnet`,
    );
  const bytes = utf8Bytes(JSON.stringify(config));
  if (bytes > maxConfigBytes)
    issues.push(
      `campaign too large: the config is ${number(bytes)} bytes as JSON (${number(config.inventory.length)} inventory entries), the limit is ${number(maxConfigBytes)} bytes (it is the workflow's input and part of every continue-as-new); split the inventory into campaigns`,
    );
  return issues;
}
