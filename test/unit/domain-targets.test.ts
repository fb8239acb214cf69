import { parseDuration } from '../../src/domain/duration';
import { matchingIps, parseSelector, purgeSelectorIssues, resolveTargets } from '../../src/domain/targets';
import type { Controller } from '../../src/domain/types';

const inventory: Controller[] = ['10.1.4.1', '10.1.4.17', '10.1.5.1', '192.168.0.9'].map((ip) => ({
  ip,
  model: 'A7210',
  role: 'local',
  ssh: { host: ip, port: 22 },
  credentialsRef: 'ctl',
}));

describe('target selectors', () => {
  test.each([
    ['all', { kind: 'all' }],
    ['10.1.4.17', { kind: 'host', ip: '10.1.4.17' }],
    [' 10.1.4.17 ', { kind: 'host', ip: '10.1.4.17' }],
  ])('%s parses', (text, expected) => {
    expect(parseSelector(text)).toEqual(expected);
  });

  test.each([
    '10.1.4.300',
    '10.1.4',
    '10.1.4.0/33',
    '10.1.4.0/',
    'ALL',
    '',
    '010.1.4.1',
    '10.1.4.1/24/1',
    'host.example',
  ])('%j is not a selector', (text) => {
    expect(parseSelector(text)).toBeUndefined();
  });

  test('a subnet matches by prefix, whatever host bits it was written with', () => {
    expect(matchingIps(['10.1.4.1', '10.1.4.17', '10.1.5.1'], ['10.1.4.99/24'])).toEqual([
      '10.1.4.1',
      '10.1.4.17',
    ]);
    expect(matchingIps(['10.1.4.1', '10.1.5.1'], ['10.1.0.0/16'])).toEqual(['10.1.4.1', '10.1.5.1']);
    expect(matchingIps(['10.1.4.1', '192.168.0.9'], ['0.0.0.0/0'])).toEqual(['10.1.4.1', '192.168.0.9']);
    expect(matchingIps(['10.1.4.1', '10.1.4.2'], ['10.1.4.2/32'])).toEqual(['10.1.4.2']);
  });

  test('resolution keeps inventory order, lists each controller once, and reports selectors that match nothing', () => {
    const resolved = resolveTargets(inventory, [
      '10.1.5.1',
      '10.1.4.0/24',
      '10.1.4.17',
      '10.9.0.0/16',
      '10.2.2.2',
    ]);
    expect(resolved.controllers.map((c) => c.ip)).toEqual(['10.1.4.1', '10.1.4.17', '10.1.5.1']);
    expect(resolved.unmatched).toEqual(['10.9.0.0/16', '10.2.2.2']);
  });

  test("'all' targets every associated controller", () => {
    expect(resolveTargets(inventory, ['all']).controllers).toHaveLength(4);
    expect(resolveTargets([], ['all']).unmatched).toEqual(['all']);
  });
});

describe('durations', () => {
  test.each([
    ['15m', 900_000],
    ['30s', 30_000],
    ['500ms', 500],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['15 m', 900_000],
  ])('%s = %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(['15', 'm', '1.5h', '-1m', '15 minutes', '', '366d', '99999999999999999999999d'])(
    '%j is not a duration',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );

  test('365d is the longest', () => {
    expect(parseDuration('365d')).toBe(365 * 86_400_000);
  });
});

test('purge selector issues show a hostile selector without its control characters', () => {
  expect(purgeSelectorIssues(['all', '10.1.4.1\u009b2J\u007f'])).toEqual([
    'selector "10.1.4.1\\x7f" (selectors[1]) is not an IPv4 address, a CIDR subnet or all',
  ]);
});
