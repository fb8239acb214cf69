import type { CampaignConfig } from '../../src/domain/types';
import { renderStatusTable } from '../../src/cli/status-table';
import { CampaignState, DownloadSlots, type StateLog } from '../../workflows/campaign-state';
import { a7210, campaignConfig, verifiedImage as image } from './upgrade-fixtures';

function config(targets: string[] = ['10.1.4.0/24'], maxDownloads = 1): CampaignConfig {
  return campaignConfig(['10.1.4.1', '10.1.4.2', '10.1.4.3'].map(a7210), { maxDownloads }, targets);
}

const quiet: StateLog = { info: () => undefined, warn: () => undefined };

/** A campaign whose images are verified and whose children are all started. */
function running(cfg = config()): CampaignState {
  const state = new CampaignState(cfg, 'spring', quiet);
  state.applyTargets();
  for (const { key } of state.imagesToVerify()) state.recordCheck(key, { ok: true, image });
  state.takeDispatches(200);
  return state;
}

function stateOf(state: CampaignState, ip: string) {
  return state.target(ip)?.status.state;
}

test('the images the waiting targets need are checked once per distinct image', () => {
  const state = new CampaignState(config(), 'spring', quiet);
  state.applyTargets();
  const images = state.imagesToVerify();
  expect(images).toHaveLength(1);
  expect(images[0]!.models).toEqual(['A7210']);
  state.recordCheck(images[0]!.key, { ok: true, image });
  expect(state.imagesToVerify()).toEqual([]);
  const starts = state.takeDispatches(200);
  expect(starts.map((s) => [s.controller.ip, s.generation])).toEqual([
    ['10.1.4.1', 1],
    ['10.1.4.2', 1],
    ['10.1.4.3', 1],
  ]);
  expect(stateOf(state, '10.1.4.1')).toBe('pending');
});

test('a failed image check fails its targets without starting a child', () => {
  const state = new CampaignState(config(), 'spring', quiet);
  state.applyTargets();
  const [check] = state.imagesToVerify();
  state.recordCheck(check!.key, { ok: false, error: 'bad magic', errorType: 'ImageVerificationFailed' });
  expect(state.takeDispatches(200)).toEqual([]);
  expect(state.target('10.1.4.1')?.status).toMatchObject({
    state: 'failed',
    lastError: 'image not verified: ImageVerificationFailed: bad magic',
  });
  expect(state.done()).toBe(true);
});

test('at most a batch of children per turn; the rest next turn', () => {
  const state = new CampaignState(config(), 'spring', quiet);
  state.applyTargets();
  for (const { key } of state.imagesToVerify()) state.recordCheck(key, { ok: true, image });
  state.dirty = false;
  expect(state.takeDispatches(2)).toHaveLength(2);
  expect(state.dirty).toBe(true);
  expect(state.takeDispatches(2).map((s) => s.controller.ip)).toEqual(['10.1.4.3']);
});

test('purge while running: purged at once, the child is told once, its later reports cannot undo it', () => {
  const state = running();
  state.requestSlot('10.1.4.1');
  expect(state.slots.grant(1)).toEqual(['10.1.4.1']);
  state.purgeSelectors('10.1.4.1');
  expect(stateOf(state, '10.1.4.1')).toBe('purged');
  expect(state.slots.inUse).toBe(0);
  expect(state.takePendingPurges()).toEqual(['10.1.4.1']);
  expect(state.takePendingPurges()).toEqual([]);
  // The child, still downloading when the purge left, reports that, then ends.
  state.applyReport({ ip: '10.1.4.1', state: 'downloading', attempts: 1, attempt: 1 }, false);
  expect(state.target('10.1.4.1')?.status).toMatchObject({ state: 'purged', attempts: 1 });
  expect(state.target('10.1.4.1')?.status.attempt).toBeUndefined();
  expect(state.done()).toBe(false);
  state.applyReport({ ip: '10.1.4.1', state: 'purged', attempts: 1, final: true }, true);
  expect(state.target('10.1.4.1')?.child).toBe('closed');
  // A purged controller gets no download slot.
  state.requestSlot('10.1.4.1');
  expect(state.slots.waiting).toBe(0);
});

test('purge selectors that do nothing are kept for the status query', () => {
  const state = running();
  state.purgeSelectors(['10.1.4.300', '10.9.0.0/16']);
  expect(state.status().ignoredPurges).toEqual([
    '"10.1.4.300": not an IPv4 address, CIDR subnet or all',
    '"10.9.0.0/16": matches no target of this campaign',
  ]);
});

test('a purge selector carrying escape sequences is kept, logged and shown without them', () => {
  const state = running();
  state.purgeSelectors(['\x1b]0;owned\x07all\x08', '10.1.4.1\u009b2J']);
  const ignored = state.status().ignoredPurges ?? [];
  expect(ignored).toEqual([
    '"all\\x08": not an IPv4 address, CIDR subnet or all',
    '"10.1.4.1": not an IPv4 address, CIDR subnet or all',
  ]);
  // eslint-disable-next-line no-control-regex
  for (const line of ignored) expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
});

test('re-target while the old child is closing: a fresh child starts only after the old one closed', () => {
  const state = running(config(['10.1.4.1']));
  state.commit(config([]));
  expect(stateOf(state, '10.1.4.1')).toBe('purged');
  expect(state.takePendingPurges()).toEqual(['10.1.4.1']);
  const result = state.commit(config(['10.1.4.1']));
  expect(result).toMatchObject({ revision: 3, changed: true, added: ['10.1.4.1'] });
  // Old child still running: nothing to start yet.
  expect(state.takeDispatches(200)).toEqual([]);
  state.applyReport({ ip: '10.1.4.1', state: 'purged', attempts: 2, final: true }, true);
  expect(state.target('10.1.4.1')).toMatchObject({
    child: 'none',
    generation: 1,
    status: { state: 'waiting-verification', attempts: 0 },
  });
  const [again] = state.takeDispatches(200);
  expect(again).toMatchObject({ controller: { ip: '10.1.4.1' }, generation: 2 });
});

test('the same config committed again changes nothing', () => {
  const state = running();
  expect(state.commit(config())).toEqual({ revision: 1, changed: false, added: [], removed: [] });
  expect(() => state.commit({ ...config(), targets: ['nope'] })).toThrow(
    'targets[0] "nope" is not an IPv4 address or CIDR subnet',
  );
});

test('a stale result from an older child is ignored', () => {
  const state = running(config(['10.1.4.1']));
  state.commit(config([]));
  state.commit(config(['10.1.4.1']));
  state.applyReport({ ip: '10.1.4.1', state: 'purged', attempts: 2, final: true }, true);
  const [again] = state.takeDispatches(200);
  expect(again!.generation).toBe(2);
  // The first child's own completion arrives late: generation 1 is not current.
  expect(state.isCurrent('10.1.4.1', 1)).toBe(false);
  state.childFailed('10.1.4.1', 1, 'ChildWorkflowFailure: terminated');
  expect(state.target('10.1.4.1')?.status.state).toBe('pending');
  state.childFailed('10.1.4.1', 2, 'ChildWorkflowFailure: terminated');
  expect(state.target('10.1.4.1')?.status).toMatchObject({
    state: 'failed',
    lastError: 'ChildWorkflowFailure: terminated',
  });
  expect(state.done()).toBe(true);
});

test('a report overtaken by a later one (sent without waiting) changes no status, but its slot still goes back', () => {
  const state = running();
  state.requestSlot('10.1.4.1');
  state.slots.grant(1);
  const at = (s: number) => new Date(Date.UTC(2026, 10, 27, 20, 0, s)).toISOString();
  state.applyReport(
    { ip: '10.1.4.1', state: 'waiting-retry', attempts: 3, nextRetryAt: at(59), updatedAt: at(3) },
    false,
  );
  state.applyReport(
    { ip: '10.1.4.1', state: 'downloading', attempt: 3, attempts: 3, updatedAt: at(2), releasesSlot: true },
    false,
  );
  expect(state.target('10.1.4.1')?.status).toMatchObject({ state: 'waiting-retry', nextRetryAt: at(59) });
  expect(state.slots.inUse).toBe(0);
  // Two reports of the same workflow task carry the same time; the later one still counts.
  state.applyReport({ ip: '10.1.4.1', state: 'downloading', attempts: 4, updatedAt: at(3) }, false);
  expect(stateOf(state, '10.1.4.1')).toBe('downloading');
  // The child's result carries no time: it always counts.
  state.applyReport({ ip: '10.1.4.1', state: 'downloaded-reboot-required', attempts: 4 }, true);
  expect(stateOf(state, '10.1.4.1')).toBe('downloaded-reboot-required');
});

test('a child that cannot be signalled any more is closed and gives its slot back', () => {
  const state = running();
  state.requestSlot('10.1.4.2');
  state.slots.grant(1);
  state.childGone('10.1.4.2');
  expect(state.target('10.1.4.2')?.child).toBe('closed');
  expect(state.slots.inUse).toBe(0);
});

describe('download slots', () => {
  test('max-downloads holders, first come first served; a report with releasesSlot hands the slot on', () => {
    const state = running(config(undefined, 2));
    for (const ip of ['10.1.4.1', '10.1.4.2', '10.1.4.3']) state.requestSlot(ip);
    expect(state.slots.grant(2)).toEqual(['10.1.4.1', '10.1.4.2']);
    expect(state.status().downloadSlots).toEqual({ inUse: 2, max: 2, waiting: 1 });
    state.applyReport({ ip: '10.1.4.1', state: 'waiting-retry', attempts: 3, releasesSlot: true }, false);
    expect(state.slots.grant(2)).toEqual(['10.1.4.3']);
  });

  test('a granted controller shows as downloading its first try at once; a grant sent again counts no attempt', () => {
    const state = running(config(['10.1.4.0/24'], 2));
    state.applyReport({ ip: '10.1.4.1', state: 'waiting-retry', attempts: 3, nextRetryAt: 'later' }, false);
    state.requestSlot('10.1.4.1');
    state.requestSlot('10.1.4.2');
    state.requestSlot('10.1.4.3');
    expect(state.grantSlots()).toEqual(['10.1.4.1', '10.1.4.2']);
    expect(state.target('10.1.4.1')?.status).toMatchObject({ state: 'downloading', attempt: 1, attempts: 4 });
    expect(state.target('10.1.4.1')?.status.nextRetryAt).toBeUndefined();
    expect(state.target('10.1.4.2')?.status).toMatchObject({ state: 'downloading', attempt: 1, attempts: 1 });
    expect(stateOf(state, '10.1.4.3')).toBe('pending');
    state.requestSlot('10.1.4.1');
    expect(state.grantSlots()).toEqual(['10.1.4.1']);
    expect(state.target('10.1.4.1')?.status).toMatchObject({ state: 'downloading', attempts: 4 });
  });

  test('a free slot goes with a start while nobody waits; never with a download window or start time', () => {
    const state = running(config(['10.1.4.0/24'], 2));
    expect(state.slotWithStart('10.1.4.1')).toBe(true);
    expect(state.slots.inUse).toBe(1);
    state.requestSlot('10.1.4.2');
    expect(state.slotWithStart('10.1.4.3')).toBe(false);
    expect(state.grantSlots()).toEqual(['10.1.4.2']);
    expect(state.slots.inUse).toBe(2);
    expect(state.slotWithStart('10.1.4.3')).toBe(false);
    const windowed = campaignConfig(['10.1.4.1'].map(a7210), {
      maxDownloads: 2,
      downloadWindow: { days: ['mon'], from: '01:00', until: '05:00' },
    });
    expect(new CampaignState(windowed, 'spring', quiet).slotWithStart('10.1.4.1')).toBe(false);
  });

  test('a start without a free slot takes a place in the queue, first come first served; never with a window, nor paused', () => {
    const state = running(config(['10.1.4.0/24'], 1));
    expect(state.slotWithStart('10.1.4.1')).toBe(true);
    expect(state.queueWithStart('10.1.4.2')).toBe(true);
    state.requestSlot('10.1.4.3');
    expect(state.queueWithStart('10.1.4.2')).toBe(false);
    expect(state.slots.waiting).toBe(2);
    state.applyReport(
      { ip: '10.1.4.1', state: 'downloaded-reboot-required', attempts: 1, final: true },
      true,
    );
    expect(state.grantSlots()).toEqual(['10.1.4.2']);
    const windowed = campaignConfig(['10.1.4.1'].map(a7210), {
      maxDownloads: 1,
      startAt: '2026-12-01T01:00:00Z',
    });
    expect(new CampaignState(windowed, 'spring', quiet).queueWithStart('10.1.4.1')).toBe(false);
    const paused = running(config(['10.1.4.0/24'], 1));
    paused.pause({}, Date.now());
    expect(paused.queueWithStart('10.1.4.2')).toBe(false);
  });

  test('hand-over across continue-as-new: holders, queue and unsent grants carry over', () => {
    const before = running(config(undefined, 1));
    before.requestSlot('10.1.4.1');
    before.requestSlot('10.1.4.2');
    before.slots.grant(1);
    // The holder asks again (its grant got lost); the grant is due but not yet sent when the run ends.
    before.requestSlot('10.1.4.1');
    const carried = JSON.parse(JSON.stringify(before.carried()));
    const after = new CampaignState(before.committed, 'spring', quiet, carried);
    expect(after.phase).toBe('running');
    expect(after.status().downloadSlots).toEqual({ inUse: 1, max: 1, waiting: 1 });
    expect(after.slots.grant(1)).toEqual(['10.1.4.1']);
    after.applyReport(
      { ip: '10.1.4.1', state: 'downloaded-reboot-required', attempts: 1, final: true },
      true,
    );
    expect(after.slots.grant(1)).toEqual(['10.1.4.2']);
  });

  test('releasing a waiting controller takes it out of the queue', () => {
    const slots = new DownloadSlots();
    slots.request('a');
    slots.request('b');
    slots.release('b');
    expect(slots.grant(0)).toEqual([]);
    expect(slots.waiting).toBe(1);
  });
});

test('purgeSelectors answers with the controllers it purged and the selectors that matched none', () => {
  const state = running();
  state.applyReport({ ip: '10.1.4.3', state: 'upgraded', attempts: 1 }, true);
  expect(state.purgeSelectors(['10.1.4.0/24', '10.9.0.0/16'])).toEqual({
    purged: ['10.1.4.1', '10.1.4.2'],
    matchingNoTarget: ['10.9.0.0/16'],
  });
  expect(state.purgeSelectors('all')).toEqual({ purged: [], matchingNoTarget: [] });
});

test('a failed first verification leaves no target waiting: each says why it will not be upgraded', () => {
  const state = new CampaignState(config(), 'spring', quiet);
  state.applyTargets();
  const [check] = state.imagesToVerify();
  state.recordCheck(check!.key, { ok: false, error: 'bad magic', errorType: 'ImageVerificationFailed' });
  state.failUnverified();
  expect(state.counts()).toEqual({ failed: 3 });
  expect(state.target('10.1.4.2')?.status.lastError).toBe(
    'image not verified: ImageVerificationFailed: bad magic',
  );
});

test('a huge lastError from a child and a huge purge selector are stored bounded', () => {
  const state = running();
  const reply = `% Error: ${'x'.repeat(10_000)}`;
  state.applyReport({ ip: '10.1.4.1', state: 'waiting-retry', attempts: 1, lastError: reply }, false);
  const stored = state.target('10.1.4.1')!.status.lastError!;
  expect(stored.length).toBeLessThanOrEqual(1_000);
  expect(stored).toMatch(/^% Error: x+ … \(\d+ more characters\)$/);
  state.purgeSelectors('y'.repeat(5_000));
  const [ignored] = state.status().ignoredPurges!;
  expect(ignored!.length).toBeLessThan(200);
});

describe('status pages', () => {
  // 3,000 targets (the campaign limit) plus one untargeted controller, 10 of them failed with the longest error.
  const ips = Array.from({ length: 3_000 }, (_, i) => `10.1.${Math.floor(i / 256)}.${i % 256}`);
  const big = () => {
    const state = running(
      campaignConfig([...ips, '10.9.0.1'].map(a7210), { maxDownloads: 10 }, ['10.1.0.0/16']),
    );
    while (state.takeDispatches(200).length > 0);
    for (const ip of ips.slice(0, 10))
      state.applyReport({ ip, state: 'failed', attempts: 3, lastError: 'x'.repeat(5_000) }, true);
    return state;
  };

  it('answers counts over the whole campaign and the first page of 250 by default', () => {
    const status = big().status();
    expect(status.counts).toEqual({ pending: 2_990, failed: 10, 'not-targeted': 1 });
    expect(status.controllers).toHaveLength(250);
    expect(status.page).toEqual({ offset: 0, limit: 250, total: 3_001 });
    expect(status.controllers[0]!.ip).toBe('10.1.0.0');
    expect(JSON.stringify(status).length).toBeLessThan(512 * 1024);
  });

  it('pages by offset, narrows by state or to one controller', () => {
    const state = big();
    const last = state.status({ offset: 3_000 });
    expect(last.controllers.map((c) => [c.ip, c.state])).toEqual([['10.9.0.1', 'not-targeted']]);
    const failed = state.status({ state: 'failed' });
    expect(failed.page.total).toBe(10);
    expect(failed.controllers.every((c) => c.state === 'failed')).toBe(true);
    expect(failed.controllers[0]!.lastError!.length).toBeLessThanOrEqual(1_000);
    const one = state.status({ controller: '10.1.4.17' });
    expect(one.controllers).toEqual([expect.objectContaining({ ip: '10.1.4.17', state: 'pending' })]);
    expect(one.page.total).toBe(1);
    expect(state.status({ controller: '10.8.8.8' }).controllers).toEqual([]);
  });

  it('the result stays bounded too: each error is cut to 200 characters there', () => {
    const summary = big().summary('completed');
    expect(summary.controllers[0]!.lastError!.length).toBe(200);
  });
});

test("a bound child's reports are heard from its own run only, each once; an overtaken one still once", () => {
  const state = running();
  expect(state.reportProblem('10.1.4.1', 'any', undefined)).toBeUndefined();
  state.childStarted('10.1.4.1', 1, 'run-a');
  expect(state.reportProblem('10.1.4.1', 'run-b', 1)).toBe(
    'sent by run run-b, not the child this campaign started',
  );
  expect(state.childRunProblem('10.1.4.1', undefined)).toBe(
    'sent by run (none), not the child this campaign started',
  );
  expect(state.reportProblem('10.1.4.1', 'run-a', undefined)).toBe('no sequence number');
  expect(state.reportProblem('10.1.4.1', 'run-a', 1)).toBeUndefined();
  expect(state.reportProblem('10.1.4.1', 'run-a', 1)).toBe('replayed (sequence 1, last 1)');
  expect(state.reportProblem('10.1.4.1', 'run-a', 4)).toBeUndefined();
  expect(state.reportProblem('10.1.4.1', 'run-a', 3)).toBeUndefined();
  expect(state.reportProblem('10.1.4.1', 'run-a', 3)).toBe('replayed (sequence 3, last 4)');
  expect(state.reportProblem('10.1.4.1', 'run-a', 2)).toBeUndefined();
  // A new child of a later generation starts its own count; a stale generation's start changes nothing.
  state.childStarted('10.1.4.1', 2, 'run-x');
  expect(state.target('10.1.4.1')?.childRun).toBe('run-a');
  expect(state.reportProblem('10.1.4.2', 'whatever', 9)).toBeUndefined();
});

test('a paused controller of a redundancy group gets no reboot permit until it is resumed', () => {
  const cfg = config();
  const grouped: CampaignConfig = {
    ...cfg,
    inventory: cfg.inventory.map((c) => (c.ip === '10.1.4.3' ? c : { ...c, group: 'hq' })),
  };
  const state = running(grouped);
  state.pause({ selectors: ['10.1.4.1'] }, 0);
  state.requestReboot('10.1.4.1');
  state.requestReboot('10.1.4.2');
  expect(state.grantReboots()).toEqual(['10.1.4.2']);
  state.applyReport({ ip: '10.1.4.2', state: 'upgraded', attempts: 1 }, true);
  expect(state.grantReboots()).toEqual([]);
  state.resume({ selectors: ['10.1.4.1'] });
  expect(state.grantReboots()).toEqual(['10.1.4.1']);
});

test('the status names what holds a reload waiting for its reboot permit: the standby first, a rebooting peer, a pause, a halt', () => {
  const cfg = config();
  const roles: Record<string, Partial<CampaignConfig['inventory'][number]>> = {
    '10.1.4.1': { group: 'hq', redundancy: 'active' },
    '10.1.4.2': { group: 'hq', redundancy: 'standby' },
  };
  const state = running({
    ...cfg,
    inventory: cfg.inventory.map((c) => ({ ...c, ...roles[c.ip] })),
    profile: { ...cfg.profile, maxFailures: 0 },
  });
  const hold = (ip: string) => state.status().controllers.find((c) => c.ip === ip)?.rebootHold;
  const waits = (ip: string) => state.applyReport({ ip, state: 'waiting-peer', attempts: 1 }, false);

  waits('10.1.4.1');
  expect(hold('10.1.4.1')).toEqual({ reason: 'asking', text: 'its request has not reached the master yet' });
  state.requestReboot('10.1.4.1');
  expect(state.grantReboots()).toEqual([]);
  expect(hold('10.1.4.1')).toEqual({
    reason: 'standby-first',
    peer: '10.1.4.2',
    group: 'hq',
    text: 'standby 10.1.4.2 of group hq reboots first',
  });
  waits('10.1.4.2');
  state.requestReboot('10.1.4.2');
  expect(state.grantReboots()).toEqual(['10.1.4.2']);
  state.applyReport({ ip: '10.1.4.2', state: 'rebooting', attempts: 1 }, false);
  expect(hold('10.1.4.1')).toEqual({
    reason: 'peer-rebooting',
    peer: '10.1.4.2',
    group: 'hq',
    text: '10.1.4.2 of group hq is rebooting',
  });
  expect(state.status().controllers.map((c) => [c.ip, c.group])).toEqual([
    ['10.1.4.1', 'hq'],
    ['10.1.4.2', 'hq'],
    ['10.1.4.3', undefined],
  ]);
  expect(state.redundancyDetails()).toEqual([
    'Redundancy groups: hq 0/2 final',
    'Rebooting with a permit: 10.1.4.2 (hq)',
    'Waiting for a reboot permit: 10.1.4.1: 10.1.4.2 of group hq is rebooting',
  ]);
  const table = renderStatusTable(state.status().controllers, { width: 120 });
  // The State column wraps the reason inside the 120 columns.
  const stateColumn = table
    .split('\n')
    .map((line) => line.split('│')[6]?.trim())
    .filter(Boolean)
    .join(' ');
  expect(stateColumn).toContain('Waiting for reboot permit: 10.1.4.2 of group hq is rebooting Rebooting');
  for (const line of table.split('\n')) expect(line.length).toBeLessThanOrEqual(120);

  state.pause({}, 0);
  expect(hold('10.1.4.1')).toEqual({ reason: 'paused', text: 'paused by the operator' });
  state.resume({});
  // The ungrouped one fails: one failure over max-failures 0 halts the campaign.
  state.applyReport({ ip: '10.1.4.3', state: 'failed', attempts: 1, lastError: 'FlashFull: full' }, true);
  state.advanceControl(0);
  expect(state.control.halted).toBeDefined();
  expect(hold('10.1.4.1')).toEqual({ reason: 'halted', text: 'the campaign is halted' });
});

test('what the main loop reads every task (counts, done, start room, purges, whom to start) agrees with a recount after every transition', () => {
  const ips = Array.from({ length: 12 }, (_, i) => `10.1.4.${i + 1}`);
  const cfg = (targets: string[]) => campaignConfig(ips.map(a7210), { maxDownloads: 2 }, targets);
  const state = new CampaignState(cfg(['all']), 'spring', quiet);
  state.applyTargets();
  for (const { key } of state.imagesToVerify()) state.recordCheck(key, { ok: true, image });
  // A fixed pseudo-random walk: the same steps every run.
  let seed = 7;
  const next = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const pick = () => ips[next(ips.length)]!;
  const reported = ['downloading', 'waiting-retry', 'rebooting', 'upgraded', 'failed'] as const;
  for (let step = 0; step < 600; step++) {
    const ip = pick();
    switch (next(8)) {
      case 0:
      case 1: {
        const reportState = reported[next(reported.length)]!;
        const final = reportState === 'upgraded' || reportState === 'failed';
        state.applyReport({ ip, state: reportState, attempts: 1, final }, final);
        break;
      }
      case 2:
        state.purgeSelectors(ip);
        break;
      case 3:
        state.retry({ selectors: [ip] });
        break;
      case 4:
        state.commit(cfg(next(2) === 0 ? ['all'] : ips.filter(() => next(3) > 0)));
        break;
      case 5:
        state.requestSlot(ip);
        state.grantSlots();
        break;
      case 6:
        state.takePendingPurges(1);
        break;
      case 7:
        state.childGone(ip);
        break;
    }
    // A state rebuilt from what it carries counts everything afresh.
    const recount = new CampaignState(state.committed, 'spring', quiet, structuredClone(state.carried()));
    expect(state.counts()).toEqual(recount.counts());
    expect(state.counts()).toEqual(state.summary('completed').counts);
    expect([state.done(), state.startRoom(), state.hasPendingPurges()]).toEqual([
      recount.done(),
      recount.startRoom(),
      recount.hasPendingPurges(),
    ]);
    expect(state.imagesToVerify()).toEqual(recount.imagesToVerify());
    const room = next(3);
    const started = (s: CampaignState) =>
      s.takeDispatches(2, room).map((d) => [d.controller.ip, d.generation]);
    expect(started(state)).toEqual(started(recount));
  }
  expect(state.summary('completed').counts).not.toEqual({});
});
