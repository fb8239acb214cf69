import type { CampaignConfig } from '../../src/domain/types';
import { CampaignState, type StateLog } from '../../workflows/campaign-state';
import { a7210, campaignConfig, verifiedImage as image } from './upgrade-fixtures';

const quiet: StateLog = { info: () => undefined, warn: () => undefined };
const ips = ['10.1.4.1', '10.1.4.2', '10.1.4.3', '10.1.4.4', '10.1.4.5', '10.1.4.6'];
const minute = 60_000;

function config(profile: Partial<CampaignConfig['profile']> = {}): CampaignConfig {
  return campaignConfig(ips.map(a7210), { maxDownloads: 10, ...profile });
}

/** A campaign with its images verified; returns the IPs of the children started by the first turn. */
function started(cfg: CampaignConfig, now = 0): { state: CampaignState; first: string[] } {
  const state = new CampaignState(cfg, 'spring', quiet);
  state.applyTargets();
  for (const { key } of state.imagesToVerify()) state.recordCheck(key, { ok: true, image });
  state.advanceControl(now);
  return { state, first: state.takeDispatches(200).map((d) => d.controller.ip) };
}

function end(state: CampaignState, ip: string, final: 'upgraded' | 'failed', attempts = 1) {
  state.applyReport(
    { ip, state: final, attempts, ...(final === 'failed' ? { lastError: 'DownloadFailed: refused' } : {}) },
    true,
  );
}

test('a wave starts only when every member of the one before is final, after its soak time', () => {
  const waves = [
    { name: 'canary', count: 1, soak: '30m' },
    { name: 'early', count: 2 },
  ];
  const { state, first } = started(config({ waves }));
  expect(first).toEqual(['10.1.4.1']);
  expect(state.status({}, 0).controllers.map((c) => c.wave)).toEqual([
    'canary',
    'early',
    'early',
    'rest',
    'rest',
    'rest',
  ]);
  end(state, '10.1.4.1', 'upgraded');
  // Done at t=1m: the next wave waits for the soak time, on a timer of exactly what is left.
  expect(state.advanceControl(1 * minute)).toBe(30 * minute);
  expect(state.takeDispatches(200)).toEqual([]);
  expect(state.status({}, 10 * minute).waves?.[1]).toMatchObject({
    name: 'early',
    state: 'soaking',
    soakUntil: new Date(31 * minute).toISOString(),
  });
  expect(state.advanceControl(20 * minute)).toBe(11 * minute);
  expect(state.advanceControl(31 * minute)).toBeUndefined();
  expect(state.takeDispatches(200).map((d) => d.controller.ip)).toEqual(['10.1.4.2', '10.1.4.3']);
  end(state, '10.1.4.2', 'upgraded');
  expect(state.advanceControl(32 * minute)).toBeUndefined();
  expect(state.takeDispatches(200)).toEqual([]);
  end(state, '10.1.4.3', 'upgraded');
  state.advanceControl(33 * minute);
  expect(state.takeDispatches(200).map((d) => d.controller.ip)).toEqual(['10.1.4.4', '10.1.4.5', '10.1.4.6']);
  expect(state.status({}, 33 * minute).waves?.map((w) => [w.name, w.state, w.final, w.size])).toEqual([
    ['canary', 'done', 1, 1],
    ['early', 'done', 2, 2],
    ['rest', 'running', 0, 3],
  ]);
});

test('a wave budget exceeded halts the campaign: no new child, no slot grant; a whole-campaign resume clears it', () => {
  const waves = [
    { name: 'canary', count: 1 },
    { name: 'early', count: 3, maxFailures: 1 },
  ];
  const { state } = started(config({ waves, maxDownloads: 1 }));
  end(state, '10.1.4.1', 'upgraded');
  state.advanceControl(0);
  expect(state.takeDispatches(200)).toHaveLength(3);
  state.requestSlot('10.1.4.2');
  expect(state.slots.grant(1, (ip) => state.control.mayGrant(ip))).toEqual(['10.1.4.2']);
  state.requestSlot('10.1.4.3');
  end(state, '10.1.4.2', 'failed');
  state.advanceControl(1);
  expect(state.control.halted).toBeUndefined();
  end(state, '10.1.4.4', 'failed', 3);
  state.advanceControl(2);
  expect(state.control.halted?.reason).toBe(
    'wave "early": 2 failure(s) exceed max-failures 1 (10.1.4.2 Failed, 10.1.4.4 Failed)',
  );
  const status = state.status({}, 3);
  expect(status.state).toBe('halted');
  expect(status.halt?.reason).toMatch(/^wave "early": 2 failure/);
  // 10.1.4.3 waits for the slot 10.1.4.2 gave back: halted, none is granted.
  expect(state.slots.grant(1, (ip) => state.control.mayGrant(ip))).toEqual([]);
  expect(state.control.holdsBack('10.1.4.3')).toMatch(/^campaign halted: wave "early"/);
  end(state, '10.1.4.3', 'upgraded');
  // Wave "early" is done, but the halt keeps the rest waiting.
  state.advanceControl(4);
  expect(state.takeDispatches(200)).toEqual([]);
  expect(state.done()).toBe(false);

  const resumed = state.resume({});
  expect(resumed.clearedHalt).toMatch(/^wave "early": 2 failure/);
  state.advanceControl(5);
  expect(state.status({}, 5).state).toBe('running');
  expect(state.takeDispatches(200).map((d) => d.controller.ip)).toEqual(['10.1.4.5', '10.1.4.6']);
});

test('a campaign-wide percentage budget counts failures over all targets', () => {
  const { state } = started(config({ maxFailures: '20%' }));
  end(state, '10.1.4.1', 'failed');
  state.advanceControl(0);
  expect(state.control.halted).toBeUndefined();
  end(state, '10.1.4.2', 'failed');
  state.advanceControl(0);
  expect(state.control.halted?.reason).toBe(
    'the campaign: 2 failure(s) exceed max-failures 20% (1 of 6) (10.1.4.1 Failed, 10.1.4.2 Failed)',
  );
  expect(state.status({}, 0).maxFailures).toBe('20% (1 of 6)');
});

test('pause: paused controllers get no child and no slot; abortDownloads names the slot holders; resume by selector', () => {
  const state = new CampaignState(config({ maxDownloads: 2 }), 'spring', quiet);
  state.applyTargets();
  for (const { key } of state.imagesToVerify()) state.recordCheck(key, { ok: true, image });
  const paused = state.pause({ selectors: ['10.1.4.4/31'] }, 0);
  expect(paused).toEqual({
    campaign: false,
    paused: ['10.1.4.4', '10.1.4.5'],
    aborting: [],
    matchingNoTarget: [],
  });
  expect(state.takeDispatches(200).map((d) => d.controller.ip)).toEqual([
    '10.1.4.1',
    '10.1.4.2',
    '10.1.4.3',
    '10.1.4.6',
  ]);
  state.requestSlot('10.1.4.1');
  state.requestSlot('10.1.4.2');
  expect(state.slots.grant(2, (ip) => state.control.mayGrant(ip))).toEqual(['10.1.4.1', '10.1.4.2']);
  const whole = state.pause({ abortDownloads: true }, 1_000);
  expect(whole.campaign).toBe(true);
  expect(whole.aborting).toEqual(['10.1.4.1', '10.1.4.2']);
  expect(state.takePendingAborts()).toEqual(['10.1.4.1', '10.1.4.2']);
  expect(state.takePendingAborts()).toEqual([]);
  // The aborted children give their slots back and ask again: nobody gets one while paused.
  state.applyReport({ ip: '10.1.4.1', state: 'pending', attempts: 1, releasesSlot: true }, false);
  state.requestSlot('10.1.4.1');
  state.requestSlot('10.1.4.3');
  expect(state.slots.grant(2, (ip) => state.control.mayGrant(ip))).toEqual([]);
  expect(state.status({}, 2_000)).toMatchObject({
    state: 'paused',
    pause: { campaign: true, controllers: ['10.1.4.4', '10.1.4.5'], at: new Date(1_000).toISOString() },
  });
  expect(state.status({ controller: '10.1.4.1' }, 2_000).controllers[0]).toMatchObject({ paused: true });
  // Resuming one subnet leaves the rest paused, one by one.
  const some = state.resume({ selectors: ['10.1.4.3'] });
  expect(some.resumed).toEqual(['10.1.4.3']);
  expect(state.slots.grant(2, (ip) => state.control.mayGrant(ip))).toEqual(['10.1.4.3']);
  expect(state.status({}, 3_000).state).toBe('running');
  expect(state.status({}, 3_000).pause?.controllers).toEqual(ips.filter((ip) => ip !== '10.1.4.3'));
  expect(state.resume({}).resumed).toEqual(ips.filter((ip) => ip !== '10.1.4.3'));
  expect(state.takeDispatches(200).map((d) => d.controller.ip)).toEqual(['10.1.4.4', '10.1.4.5']);
  expect(state.status({}, 4_000).pause).toBeUndefined();
});

test('retry: failed, pre-check-failed and purged targets start again with attempts and error history kept', () => {
  const { state } = started(config());
  end(state, '10.1.4.1', 'failed', 7);
  state.applyReport(
    { ip: '10.1.4.2', state: 'pre-check-failed', attempts: 0, lastError: 'FlashFull: need 4 KiB' },
    true,
  );
  end(state, '10.1.4.3', 'upgraded');
  state.purgeSelectors('10.1.4.4');
  const result = state.retry({ selectors: ['10.1.4.0/29'] });
  expect(result).toEqual({
    retried: ['10.1.4.1', '10.1.4.2'],
    skipped: [
      { ip: '10.1.4.3', state: 'upgraded' },
      { ip: '10.1.4.4', state: 'purged, its child is still stopping' },
      { ip: '10.1.4.5', state: 'pending' },
      { ip: '10.1.4.6', state: 'pending' },
    ],
    matchingNoTarget: [],
  });
  expect(state.target('10.1.4.1')?.status).toMatchObject({
    state: 'waiting-verification',
    attempts: 7,
    previousErrors: ['Failed: DownloadFailed: refused'],
  });
  const again = state.takeDispatches(200);
  expect(again.map((d) => [d.controller.ip, d.generation])).toEqual([
    ['10.1.4.1', 2],
    ['10.1.4.2', 2],
  ]);
  end(state, '10.1.4.1', 'failed', 10);
  state.retry({ selectors: ['10.1.4.1'] });
  expect(state.target('10.1.4.1')?.status.previousErrors).toEqual([
    'Failed: DownloadFailed: refused',
    'Failed: DownloadFailed: refused',
  ]);
  expect(state.target('10.1.4.1')?.status.attempts).toBe(10);
  // The purged child closes; then it may be retried.
  state.applyReport({ ip: '10.1.4.4', state: 'purged', attempts: 0 }, true);
  expect(state.retry({ selectors: ['10.1.4.4', '10.9.9.0/24'] })).toMatchObject({
    retried: ['10.1.4.4'],
    matchingNoTarget: ['10.9.9.0/24'],
  });
});

test('halt, pause and opened waves carry over continue-as-new; a campaign without them carries nothing new', () => {
  const plain = started(config()).state;
  expect(plain.carried().control).toBeUndefined();
  const { state } = started(config({ waves: [{ name: 'canary', count: 1 }], maxFailures: 0 }));
  end(state, '10.1.4.1', 'failed');
  state.advanceControl(0);
  state.pause({ selectors: ['10.1.4.6'] }, 0);
  const next = new CampaignState(
    config({ waves: [{ name: 'canary', count: 1 }], maxFailures: 0 }),
    'spring',
    quiet,
    state.carried(),
  );
  expect(next.control.halted?.reason).toMatch(/^the campaign: 1 failure/);
  expect(next.control.isPaused('10.1.4.6')).toBe(true);
  expect(next.control.stateWord(false)).toBe('halted');
});

test('a soak time under way carries over continue-as-new: the next run waits only what is left', () => {
  const cfg = config({ waves: [{ name: 'canary', count: 1, soak: '1h' }, { name: 'rest' }] });
  const { state } = started(cfg);
  end(state, '10.1.4.1', 'upgraded');
  expect(state.advanceControl(10 * minute)).toBe(60 * minute);
  const next = new CampaignState(cfg, 'spring', quiet, state.carried());
  expect(next.advanceControl(40 * minute)).toBe(30 * minute);
  expect(next.advanceControl(70 * minute)).toBeUndefined();
  expect(next.takeDispatches(200)).toHaveLength(5);
});

test('a halted campaign grants no reboot permit to a grouped controller; a resume lets it reboot', () => {
  const pair = ips.slice(0, 2).map((ip, i) => ({
    ...a7210(ip),
    group: 'hq',
    redundancy: i === 0 ? ('standby' as const) : ('active' as const),
  }));
  const cfg = campaignConfig([...pair, ...ips.slice(2).map(a7210)], { maxFailures: 0 });
  const { state } = started(cfg);
  end(state, '10.1.4.3', 'failed');
  state.advanceControl(0);
  expect(state.control.halted).toBeDefined();
  state.requestReboot('10.1.4.1');
  expect(state.grantReboots()).toEqual([]);
  state.resume({});
  expect(state.grantReboots()).toEqual(['10.1.4.1']);
});
