/** Pure pieces of the controller simulator: subnet addressing and the CLI's word splitting. */
import { loopbackHosts } from '../../devkit/simulator/fleet';
import { resolveCommand, wordColumn, words as tokenize } from '../../devkit/simulator/command-tree';

describe('loopbackHosts', () => {
  test('host addresses of a /24 from .1 upwards; a /30 from its first host', () => {
    expect(loopbackHosts('127.20.0.0/24', 3)).toEqual(['127.20.0.1', '127.20.0.2', '127.20.0.3']);
    expect(loopbackHosts('127.20.1.77/30', 2)).toEqual(['127.20.1.77', '127.20.1.78']);
    expect(loopbackHosts('127.21.0.0/16', 300).at(-1)).toBe('127.21.1.44');
  });

  test('only loopback subnets, and no more controllers than host addresses', () => {
    expect(() => loopbackHosts('10.0.0.0/24', 1)).toThrow(
      'subnet must be a loopback CIDR inside 127.0.0.0/8',
    );
    expect(() => loopbackHosts('127.0.0.0/7', 1)).toThrow('subnet must be a loopback CIDR');
    expect(() => loopbackHosts('127.20.0.0/24', 255)).toThrow(
      'count must be between 1 and 254 for subnet 127.20.0.0/24',
    );
    expect(() => loopbackHosts('127.20.0.0/30', 0)).toThrow('count must be between 1 and 2');
  });
});

describe('tokenize', () => {
  test('words, and double-quoted text as one word', () => {
    expect(tokenize('  logging message error "a  b" c ')).toEqual([
      'logging',
      'message',
      'error',
      'a  b',
      'c',
    ]);
    expect(tokenize('')).toEqual([]);
  });
});

describe('the simulated CLI grammar (its own, not the driver’s)', () => {
  const specs = [
    { id: 'show-version', words: ['show', 'version'], modes: ['enable' as const] },
    { id: 'show-switches', words: ['show', 'switches'], modes: ['enable' as const] },
    { id: 'configure', words: ['configure', 'terminal'], modes: ['enable' as const] },
    { id: 'copy', words: ['copy', '<rest>'], modes: ['enable' as const] },
    { id: 'boot', words: ['boot', 'system', 'partition', '<value>'], modes: ['enable' as const] },
  ];

  test.each([
    ['sh ver', 'show-version', []],
    ['show sw', 'show-switches', []],
    ['conf t', 'configure', []],
    ['configure term', 'configure', []],
    [
      'copy ftp: 10.1.1.1 u f system: partition 1',
      'copy',
      ['ftp:', '10.1.1.1', 'u', 'f', 'system:', 'partition', '1'],
    ],
    ['boot sys part 1', 'boot', ['1']],
  ])('%j resolves by unique prefixes', (line, id, args) => {
    expect(resolveCommand(tokenize(line), specs, 'enable')).toEqual({ ok: true, id, args });
  });

  test('ambiguous, invalid (with the word it fails at) and incomplete lines', () => {
    expect(
      resolveCommand(
        tokenize('show s'),
        [...specs, { id: 'x', words: ['show', 'system'], modes: ['enable'] }],
        'enable',
      ),
    ).toEqual({ ok: false, error: 'ambiguous', at: 1 });
    expect(resolveCommand(tokenize('show bogus'), specs, 'enable')).toEqual({
      ok: false,
      error: 'invalid',
      at: 1,
    });
    expect(resolveCommand(tokenize('show'), specs, 'enable')).toEqual({ ok: false, error: 'incomplete' });
    expect(resolveCommand(tokenize('show version'), specs, 'user')).toEqual({
      ok: false,
      error: 'invalid',
      at: 0,
    });
    expect(wordColumn('  show   bogus', 1)).toBe(9);
  });
});
