import { boundIssues, boundText } from '../../src/domain/bounded';
import { validateCampaignConfig } from '../../src/domain/config';
import { purgeSelectorIssues } from '../../src/domain/targets';

test('a short text stays as it is; a long one is cut and says how much was left out', () => {
  expect(boundText('550 Failed to open file.')).toBe('550 Failed to open file.');
  const cut = boundText('x'.repeat(10_000));
  expect(cut.length).toBe(1_000);
  expect(cut).toMatch(/^x+ … \(9\d{3} more characters\)$/);
});

test('20,000 empty inventory entries give the first issues and "and N more", not a 2 MiB message', () => {
  const input = JSON.parse(
    `{"inventory":[${Array(20_000).fill('{}').join(',')}],"targets":["all"],"profile":{"models":{}}}`,
  ) as unknown;
  const result = validateCampaignConfig(input);
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.issues.length).toBeGreaterThan(20_000);
  const message = boundIssues(result.issues);
  expect(message.length).toBeLessThanOrEqual(1_000);
  expect(message).toContain('inventory[0].ip is required');
  expect(message).toMatch(/; and \d{5} more$/);
});

test('a purge request names every selector that is not an IPv4 address, a CIDR subnet or all', () => {
  expect(purgeSelectorIssues(['10.1.4.0/24', 'all', '10.1.4.7'])).toEqual([]);
  expect(purgeSelectorIssues('garbage; reload')).toEqual([
    'selector "garbage; reload" is not an IPv4 address, a CIDR subnet or all',
  ]);
  expect(purgeSelectorIssues(42)).toEqual([
    'selector 42 must be a string: an IPv4 address, a CIDR subnet or all',
  ]);
  expect(purgeSelectorIssues(null)).toEqual([
    'selector null must be a string: an IPv4 address, a CIDR subnet or all',
  ]);
  expect(purgeSelectorIssues(['10.1.4.1', 7])).toEqual([
    'selector 7 (selectors[1]) must be a string: an IPv4 address, a CIDR subnet or all',
  ]);
  expect(purgeSelectorIssues([])).toHaveLength(1);
});
