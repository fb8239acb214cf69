import { renderCampaignStatus } from '../../src/cli/commands/campaign';
import { emptyConfig } from '../../src/cli/config-file';
import { UsageError } from '../../src/cli/exit-codes';
import { renderPlan } from '../../src/cli/plan-table';
import { removeWave, setMaxFailures, setWave } from '../../src/cli/wave-staging';
import { planCampaign } from '../../src/domain/plan';
import type { CampaignStatus } from '../../src/domain/status';
import { a7210, campaignConfig } from './upgrade-fixtures';

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('no error');
}

test('staging waves: by count, percentage, selector or the rest, with soak and budget; changed in place; removed', () => {
  let config = emptyConfig();
  config = setWave(config, 'canary', ['1', 'soak', '30m', 'max-failures', '0']);
  config = setWave(config, 'early', ['10%', 'max-failures', '5%']);
  config = setWave(config, 'standbys', ['role', 'standby']);
  config = setWave(config, 'rest', []);
  config = setMaxFailures(config, '3');
  expect(config.profile).toEqual({
    models: {},
    waves: [
      { name: 'canary', count: 1, soak: '30m', maxFailures: 0 },
      { name: 'early', percent: 10, maxFailures: '5%' },
      { name: 'standbys', role: 'standby' },
      { name: 'rest' },
    ],
    maxFailures: 3,
  });
  config = setWave(config, 'early', ['subnet', '10.1.5.0/24']);
  expect((config.profile.waves as Array<Record<string, unknown>>)[1]).toEqual({
    name: 'early',
    subnet: '10.1.5.0/24',
  });
  expect(removeWave(config, 'standbys').profile.waves).toHaveLength(3);
  expect(removeWave(config, 'all').profile.waves).toBeUndefined();
  expect(setMaxFailures(config, undefined).profile.maxFailures).toBeUndefined();
});

test('staging refuses bad waves naming the field', () => {
  const config = setWave(emptyConfig(), 'rest', []);
  expect(usageError(() => setWave(config, 'late', ['1']))).toContain(
    'profile.waves[0] wave "rest" takes all remaining controllers, so it must be the last wave',
  );
  expect(usageError(() => setWave(emptyConfig(), 'a', ['subnet', '10.1.5.7']))).toContain(
    'profile.waves[0].subnet must be a CIDR subnet like 10.1.4.0/24',
  );
  expect(usageError(() => setWave(emptyConfig(), 'a', ['1', 'max-failures', 'many']))).toBe(
    'profile.waves.a.maxFailures must be a whole number of failures or a percentage like 5%, got "many"',
  );
  expect(usageError(() => setWave(emptyConfig(), 'a', ['size', '3']))).toMatch(
    /^upgrade-profile wave a: unknown keyword "size"/,
  );
  expect(usageError(() => removeWave(emptyConfig(), 'early'))).toBe(
    'profile.waves has no wave "early" (waves: none)',
  );
  expect(usageError(() => setMaxFailures(emptyConfig(), '120%'))).toBe(
    'profile.maxFailures must be a whole number of failures or a percentage like 5%, got "120%"',
  );
});

test('the plan shows each controller wave, and the waves with their budgets', () => {
  const inventory = ['10.1.4.1', '10.1.4.2', '10.1.4.3', '10.1.4.4'].map(a7210);
  const config = campaignConfig(inventory, {
    waves: [{ name: 'canary', count: 1, soak: '1h', maxFailures: 0 }, { name: 'rest' }],
  });
  const plan = planCampaign(config, new Date('2026-11-27T08:00:00Z'));
  expect(plan.controllers.map((c) => c.wave)).toEqual(['canary', 'rest', 'rest', 'rest']);
  expect(plan.waves).toEqual([
    { name: 'canary', size: 1, soak: '1h', maxFailures: '0' },
    { name: 'rest', size: 3 },
  ]);
  const text = renderPlan(plan);
  expect(text).toContain('waves: canary 1, soak 1h, max-failures 0 → rest 3');
  expect(text).toMatch(/│ 10\.1\.4\.1 +│ A7210 +│ Upgrade +│ canary +│/);
});

test('the status shows the halt with its reason, the pause, the waves and each controller wave', () => {
  const status: CampaignStatus = {
    campaign: 'spring',
    phase: 'running',
    state: 'halted',
    revision: 1,
    verifications: [],
    unmatchedSelectors: [],
    controllers: [
      { ip: '10.1.4.1', model: 'A7210', role: 'local', state: 'upgraded', attempts: 1, wave: 'canary' },
      {
        ip: '10.1.4.2',
        model: 'A7210',
        role: 'local',
        state: 'failed',
        attempts: 1,
        wave: 'early',
        lastError: 'FlashFull: not enough flash',
        previousErrors: ['Failed: DownloadFailed: refused'],
      },
      {
        ip: '10.1.4.3',
        model: 'A7210',
        role: 'local',
        state: 'pending',
        attempts: 0,
        wave: 'rest',
        paused: true,
      },
    ],
    page: { offset: 0, limit: 250, total: 3 },
    counts: { upgraded: 1, failed: 1, pending: 1 },
    downloadSlots: { inUse: 0, max: 10, waiting: 1 },
    halt: {
      reason: 'wave "early": 2 failure(s) exceed max-failures 1 (10.1.4.2 Failed)',
      at: '2026-11-27T08:00:00.000Z',
    },
    pause: { campaign: false, controllers: ['10.1.4.3'], at: '2026-11-27T08:01:00.000Z' },
    waves: [
      { name: 'canary', state: 'done', size: 1, final: 1, failures: 0 },
      { name: 'early', state: 'done', size: 1, final: 1, failures: 1, maxFailures: '1' },
      { name: 'rest', state: 'waiting', size: 1, final: 0, failures: 0 },
    ],
  };
  const text = renderCampaignStatus(status, { width: 0 });
  const lines = text.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^Campaign spring — halted, config revision 1/);
  expect(lines[1]).toBe(
    'HALTED since 2026-11-27T08:00:00.000Z: wave "early": 2 failure(s) exceed max-failures 1 (10.1.4.2 Failed) — `ciu upgrade resume` continues, `ciu upgrade target purge all` ends it',
  );
  expect(lines[2]).toBe('Paused: 10.1.4.3 — `ciu upgrade resume <selector>`');
  expect(lines[3]).toBe(
    'Waves: canary done 1/1 · early done 1/1, 1 failed (max-failures 1) · rest waiting 0/1',
  );
  expect(text).toMatch(/│ 10\.1\.4\.3 +│ A7210 +│ local +│ - +│ - +│ rest +│ Pending \(paused\) +│/);
  expect(lines.at(-1)).toBe('1 Pending, 1 Upgraded, 1 Failed — campaign HALTED (failure budget exceeded)');
});
