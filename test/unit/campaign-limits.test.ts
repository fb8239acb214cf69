import {
  campaignSizeIssues,
  maxCampaignTargets,
  maxConfigBytes,
  utf8Bytes,
} from '../../src/domain/campaign-limits';
import { a7210, campaignConfig } from './upgrade-fixtures';

const fleet = (n: number, second = 1) =>
  Array.from({ length: n }, (_, i) => a7210(`10.${second}.${Math.floor(i / 256)}.${i % 256}`));

describe('campaignSizeIssues', () => {
  it('accepts a campaign at the target limit', () => {
    expect(campaignSizeIssues(campaignConfig(fleet(maxCampaignTargets)))).toEqual([]);
  });

  it('refuses one target more, saying how many and the limit', () => {
    expect(campaignSizeIssues(campaignConfig(fleet(maxCampaignTargets + 1)))).toEqual([
      expect.stringContaining('targets match 10,001 controllers, the limit is 10,000 per campaign'),
    ]);
  });

  it('counts the controllers the selectors match, not the inventory', () => {
    const inventory = [...fleet(maxCampaignTargets, 1), ...fleet(100, 2)];
    expect(campaignSizeIssues(campaignConfig(inventory, {}, ['10.2.0.0/16']))).toEqual([]);
  });

  it('refuses a config over the byte limit even when few controllers are targeted', () => {
    const inventory = [...fleet(10_000, 1), ...fleet(10_000, 2)];
    const issues = campaignSizeIssues(campaignConfig(inventory, {}, ['10.2.0.1']));
    expect(issues).toEqual([
      expect.stringMatching(
        /^campaign too large: the config is [\d,]+ bytes as JSON \(20,000 inventory entries\), the limit is 2,000,000 bytes/,
      ),
    ]);
    expect(maxConfigBytes).toBe(2_000_000);
  });
});

describe('utf8Bytes', () => {
  it('counts UTF-8 bytes as Node does', () => {
    for (const text of ['plain', 'Zürich', '東京', 'emoji 🚀 here'])
      expect(utf8Bytes(text)).toBe(Buffer.byteLength(text, 'utf8'));
  });
});
