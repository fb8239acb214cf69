import { validate } from '../../src/domain/config';
import { upgradeProfileSchema } from '../../src/domain/schemas';
import {
  assignWaves,
  budgetExceeded,
  budgetLimit,
  describeBudget,
  parseBudget,
} from '../../src/domain/waves';
import { a7210 } from './upgrade-fixtures';

const fleet = Array.from({ length: 20 }, (_, i) => ({ ...a7210(`10.1.${i < 10 ? 4 : 5}.${i + 1}`) }));

function profileIssues(extra: Record<string, unknown>): string[] {
  const result = validate(upgradeProfileSchema, { models: {}, ...extra }, 'profile');
  return result.ok ? [] : result.issues;
}

test('waves by count, percentage (rounded up) and selector, in order; what is left forms the wave "rest"', () => {
  const standby = { ...a7210('10.1.6.1'), role: 'standby' as const };
  const waves = assignWaves(
    [
      { name: 'canary', count: 1 },
      { name: 'early', percent: 10 },
      { name: 'standbys', role: 'standby' },
      { name: 'subnet5', subnet: '10.1.5.0/24' },
    ],
    [...fleet, standby],
  );
  expect(waves?.map((w) => [w.name, w.members.length])).toEqual([
    ['canary', 1],
    ['early', 3],
    ['standbys', 1],
    ['subnet5', 10],
    ['rest', 6],
  ]);
  expect(waves?.[0]?.members).toEqual(['10.1.4.1']);
  expect(waves?.[1]?.members).toEqual(['10.1.4.2', '10.1.4.3', '10.1.4.4']);
  expect(waves?.[2]?.members).toEqual(['10.1.6.1']);
  expect(assignWaves(undefined, fleet)).toBeUndefined();
  // A last wave without size takes the rest itself: no extra wave.
  expect(
    assignWaves([{ name: 'canary', count: 2 }, { name: 'rest' }], fleet)?.map((w) => w.members.length),
  ).toEqual([2, 18]);
});

test('budgets: a count, or a percentage of the scope (rounded down); exceeded means one more failure than allowed', () => {
  expect(budgetLimit(2, 100)).toBe(2);
  expect(budgetLimit('5%', 20)).toBe(1);
  expect(budgetLimit('5%', 19)).toBe(0);
  expect(budgetExceeded(1, 1, 10)).toBe(false);
  expect(budgetExceeded(1, 2, 10)).toBe(true);
  expect(budgetExceeded('10%', 2, 20)).toBe(false);
  expect(budgetExceeded('10%', 3, 20)).toBe(true);
  expect(describeBudget('5%', 40)).toBe('5% (2 of 40)');
  expect(parseBudget('2')).toBe(2);
  expect(parseBudget('5%')).toBe('5%');
  expect(parseBudget('101%')).toBeUndefined();
  expect(parseBudget('two')).toBeUndefined();
});

test('the profile refuses bad waves and budgets, naming the field', () => {
  expect(
    profileIssues({ waves: [{ name: 'canary', count: 1 }, { name: 'rest' }], maxFailures: '5%' }),
  ).toEqual([]);
  expect(profileIssues({ waves: [{ name: 'a', count: 0 }] })).toEqual([
    'profile.waves[0].count must be >= 1',
  ]);
  expect(profileIssues({ waves: [{ name: 'a', count: 1, percent: 5 }] })).toEqual([
    'profile.waves[0].percent a wave picks by one of count, percent, subnet, model or role, not count and percent',
  ]);
  expect(profileIssues({ waves: [{ name: 'all-of-them' }, { name: 'b', count: 1 }] })).toEqual([
    'profile.waves[0] wave "all-of-them" takes all remaining controllers, so it must be the last wave',
  ]);
  expect(
    profileIssues({
      waves: [
        { name: 'a', count: 1 },
        { name: 'a', count: 2 },
      ],
    }),
  ).toEqual(['profile.waves[1].name "a" is named twice']);
  expect(profileIssues({ waves: [{ name: 'a', subnet: '10.1.4.7' }] })).toEqual([
    'profile.waves[0].subnet must be a CIDR subnet like 10.1.4.0/24',
  ]);
  expect(profileIssues({ waves: [{ name: 'a', count: 1, soak: 'soon' }] })).toEqual([
    "profile.waves[0].soak must be a duration like '30m' (at most 365d)",
  ]);
  expect(profileIssues({ maxFailures: '150%' })).toEqual([
    "profile.maxFailures must be a whole number of failures or a percentage like '5%'",
  ]);
  expect(profileIssues({ maxFailures: -1 })).toEqual(['profile.maxFailures must be >= 0']);
});
