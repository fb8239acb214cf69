import { RebootPermits, rebootBlocker, type GroupMember } from '../../src/domain/redundancy';
import { validateCampaignConfig } from '../../src/domain/config';
import { campaignConfig } from './upgrade-fixtures';

const pair = (standbyFinal = false): Map<string, GroupMember> =>
  new Map([
    ['10.0.0.1', { ip: '10.0.0.1', group: 'hq', redundancy: 'active', final: false }],
    ['10.0.0.2', { ip: '10.0.0.2', group: 'hq', redundancy: 'standby', final: standbyFinal }],
    ['10.0.0.3', { ip: '10.0.0.3', final: false }],
  ]);

describe('reboot permits per redundancy group', () => {
  it('makes the active wait for its standby even when it asked first, and names why', () => {
    const members = pair();
    const permits = new RebootPermits();
    permits.request('10.0.0.1');
    expect(permits.grant(members)).toEqual([]);
    expect(rebootBlocker(members.get('10.0.0.1')!, [...members.values()], [])).toBe(
      'standby 10.0.0.2 of group hq reboots first',
    );
    permits.request('10.0.0.2');
    expect(permits.grant(members)).toEqual(['10.0.0.2']);
    expect(permits.waiting).toEqual(['10.0.0.1']);
  });

  it('never lets two members of a group hold a permit; the next goes once the holder released it', () => {
    const members = pair(true);
    const permits = new RebootPermits();
    permits.request('10.0.0.2');
    permits.request('10.0.0.1');
    expect(permits.grant(members)).toEqual(['10.0.0.2']);
    expect(permits.grant(members)).toEqual([]);
    expect(rebootBlocker(members.get('10.0.0.1')!, [...members.values()], ['10.0.0.2'])).toBe(
      '10.0.0.2 of group hq is rebooting',
    );
    permits.release('10.0.0.2');
    expect(permits.grant(members)).toEqual(['10.0.0.1']);
    expect(permits.holds('10.0.0.1')).toBe(true);
  });

  it('grants an ungrouped controller at once, and a holder asking again gets its grant again', () => {
    const permits = new RebootPermits();
    permits.request('10.0.0.3');
    expect(permits.grant(pair())).toEqual(['10.0.0.3']);
    permits.request('10.0.0.3');
    expect(permits.grant(pair())).toEqual(['10.0.0.3']);
    expect(permits.waiting).toEqual([]);
  });

  it('orders nothing in a group without roles, but still one at a time', () => {
    const members = new Map<string, GroupMember>([
      ['10.0.0.4', { ip: '10.0.0.4', group: 'cluster', final: false }],
      ['10.0.0.5', { ip: '10.0.0.5', group: 'cluster', final: false }],
    ]);
    const permits = new RebootPermits();
    permits.request('10.0.0.5');
    permits.request('10.0.0.4');
    expect(permits.grant(members)).toEqual(['10.0.0.5']);
  });
});

describe('redundancy fields in the inventory', () => {
  it('refuses a role without a group and a bad group name, naming the field', () => {
    const ctl = (ip: string) => ({
      ip,
      model: 'A7210' as const,
      role: 'local' as const,
      ssh: { host: '127.0.0.1', port: 2222 },
      credentialsRef: 'ctl-admin',
    });
    const issues = (inventory: unknown[]) => {
      const result = validateCampaignConfig({ ...campaignConfig([]), inventory });
      return result.ok ? [] : result.issues;
    };
    expect(issues([{ ...ctl('10.0.0.1'), redundancy: 'standby' }, ctl('10.0.0.2')])).toEqual([
      'inventory[0].redundancy needs a group: 10.0.0.1 is standby of which group?',
    ]);
    expect(issues([{ ...ctl('10.0.0.2'), group: 'no spaces', redundancy: 'primary' }])).toEqual([
      'inventory[0].group must be a group name (letters, digits, . _ -, at most 64)',
      'inventory[0].redundancy must be one of active, standby',
    ]);
    expect(issues([{ ...ctl('10.0.0.1'), group: 'hq', redundancy: 'active' }])).toEqual([]);
  });
});

describe('reboot permits while the campaign holds back', () => {
  it('keeps a refused controller waiting in its place and grants it once allowed', () => {
    const permits = new RebootPermits();
    permits.request('10.0.0.3');
    expect(permits.grant(pair(), () => false)).toEqual([]);
    expect(permits.waiting).toEqual(['10.0.0.3']);
    expect(permits.grant(pair(), () => true)).toEqual(['10.0.0.3']);
  });
});
