import { planCampaign } from '../../src/domain/plan';
import { renderPlan } from '../../src/cli/plan-table';
import { a7210, campaignConfig } from './upgrade-fixtures';

const now = new Date('2026-11-27T12:00:00Z');
const pinned = {
  A7210: {
    imageFile: 'ArubaOS_72xx_6.4.0.0_81234',
    server: { host: '127.0.0.1' },
    protocol: 'ftp' as const,
    credentialsRef: 'ftp-images',
    expectedVersion: '6.4.0.0',
    expectedBuild: 81234,
  },
};

describe('the plan (dry run)', () => {
  test('without facts: which image, partition, windows; untargeted controllers and unmatched selectors named', () => {
    const config = campaignConfig(
      [a7210('10.1.4.17'), a7210('10.2.0.1')],
      {
        models: pinned,
        autoboot: true,
        fallback: true,
        rebootWindow: { start: '02:00', end: '05:00', timeZone: 'UTC' },
        downloadWindow: { from: '2026-11-27T11:00:00Z', until: '2026-11-27T13:00:00Z' },
      },
      ['10.1.4.0/24', '10.9.0.0/16'],
    );
    expect(planCampaign(config, now)).toEqual({
      at: '2026-11-27T12:00:00.000Z',
      unmatchedSelectors: ['10.9.0.0/16'],
      counts: { upgrade: 1, 'not-targeted': 1 },
      controllers: [
        {
          ip: '10.1.4.17',
          model: 'A7210',
          action: 'upgrade',
          image: 'ArubaOS_72xx_6.4.0.0_81234',
          targetVersion: '6.4.0.0',
          targetBuild: 81234,
          partition: 'non-boot',
          downloadWindow: 'once 2026-11-27T11:00:00Z until 2026-11-27T13:00:00Z (open now)',
          reboot: '02:00-05:00 UTC daily (opens 2026-11-28T02:00:00.000Z)',
          fallback: true,
          preChecks: true,
        },
        { ip: '10.2.0.1', model: 'A7210', action: 'not-targeted', reason: 'no target selector matches it' },
      ],
    });
  });

  test('with inspected facts: up-to-date, the partition resolved, pre-check refusals with why', () => {
    const config = campaignConfig([a7210('10.1.4.1'), a7210('10.1.4.2'), a7210('10.1.4.3')], {
      models: pinned,
    });
    const plan = planCampaign(config, now, {
      '10.1.4.1': { model: 'A7210', runningVersion: '6.4.0.0', runningBuild: 81234, bootPartition: 1 },
      '10.1.4.2': { model: 'A7210', runningVersion: '6.3.1.0', runningBuild: 70000, bootPartition: 1 },
      '10.1.4.3': { model: 'A7005', runningVersion: '6.3.1.0', runningBuild: 70000, bootPartition: 0 },
    });
    expect(plan.controllers.map((c) => [c.ip, c.action, c.partition ?? c.reason])).toEqual([
      ['10.1.4.1', 'up-to-date', 'already runs the target version and build'],
      ['10.1.4.2', 'upgrade', '0'],
      [
        '10.1.4.3',
        'refused',
        'pre-check would fail: the controller reports model A7005, the inventory says A7210',
      ],
    ]);
    expect(plan.controllers[1]!.reboot).toBe('manual reboot (no autoboot)');
  });

  test("a source the controller's dialect cannot fetch is refused per controller, naming the field", () => {
    const config = campaignConfig([a7210('10.1.4.17')], {
      models: { A7210: { ...pinned.A7210, server: { host: '127.0.0.1', port: 2121 } } },
    });
    expect(planCampaign(config, now).controllers[0]).toMatchObject({
      action: 'refused',
      reason:
        'profile.models.A7210.server.port must be 21 (or omitted) for arubaos controllers: their copy command has no port clause',
    });
  });
});

test('the plan shows each controller redundancy group and its role there; the table a Group column only when the inventory has groups', () => {
  const config = campaignConfig(
    [
      { ...a7210('10.1.4.1'), group: 'hq-pair', redundancy: 'active' },
      { ...a7210('10.1.4.2'), group: 'hq-pair', redundancy: 'standby' },
      { ...a7210('10.1.4.3'), group: 'aps-east' },
      a7210('10.1.4.4'),
    ],
    { models: pinned, autoboot: true },
    ['10.1.4.0/24'],
  );
  const plan = planCampaign(config, now);
  expect(plan.controllers.map((c) => [c.ip, c.group, c.redundancy])).toEqual([
    ['10.1.4.1', 'hq-pair', 'active'],
    ['10.1.4.2', 'hq-pair', 'standby'],
    ['10.1.4.3', 'aps-east', undefined],
    ['10.1.4.4', undefined, undefined],
  ]);
  const text = renderPlan(plan, { width: 0 });
  expect(text).toMatch(/│ IP +│ Model +│ Plan +│ Group +│ Image +│/);
  expect(text).toMatch(/│ 10\.1\.4\.1 +│ A7210 +│ Upgrade +│ hq-pair active +│/);
  expect(text).toMatch(/│ 10\.1\.4\.2 +│ A7210 +│ Upgrade +│ hq-pair standby +│/);
  expect(text).toMatch(/│ 10\.1\.4\.3 +│ A7210 +│ Upgrade +│ aps-east +│/);
  expect(text).toMatch(/│ 10\.1\.4\.4 +│ A7210 +│ Upgrade +│ - +│/);
  // The default wraps cells to fit 120 columns, the group beside its controller.
  const fitted = renderPlan(plan);
  for (const line of fitted.split('\n')) expect(line.length).toBeLessThanOrEqual(120);
  expect(fitted).toMatch(/│ 10\.1\.4\.2 +│ A7210 +│ Upgrade +│ hq-pair +│.*\n.*│ standby +│/);
  const ungrouped = planCampaign(campaignConfig([a7210('10.1.4.4')], { models: pinned }), now);
  expect(renderPlan(ungrouped)).not.toContain('Group');
});
