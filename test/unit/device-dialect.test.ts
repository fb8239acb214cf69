/** The arubaos dialect as data: prompt grammar, terminal clean-up, capability advertisement. */
import { advertisedCapabilities, dialectFor, TerminalText } from '../../src/device/dialect';
import { dialectProblems } from '../../src/domain/dialects';
import { validateCampaignConfig } from '../../src/domain/config';
import { validateStaged } from '../../src/cli/validate-staged';
import { UsageError } from '../../src/cli/exit-codes';

const { prompt } = dialectFor();

describe('arubaos prompt grammar', () => {
  test.each([
    ['(Aruba7210) >', '>'],
    ['(Aruba7210) #', '#'],
    ['(Aruba7210) (config) #', '#'],
    ['(Aruba7210) [mynode] #', '#'],
    ['(Aruba7210) *[mynode] #', '#'],
    ['(Aruba7210) ^[mynode] #', '#'],
    ['(Aruba7210) [mynode] (config) #', '#'],
    ['(Aruba7210) *[mynode] (config-submode)#', '#'],
    ['(Aruba7210) *#', '#'],
    ['(MM-VA) [mm/mynode] >', '>'],
  ])('%s ends the output, level %s', (text, level) => {
    const m = prompt.exec(`show version\nsome output\n${text}`);
    expect(m?.groups?.level).toBe(level);
  });

  test.each([
    'Partition               : 0:0 (/dev/usb/flash1) **Default boot**',
    '(Aruba7210) # show version',
    'Do you really want to reset the system(y/n):',
    'ArubaOS (MODEL: Aruba7210), Version 8.6.0.4 >',
  ])('is not fooled by %j', (text) => {
    expect(prompt.test(`\n${text}`)).toBe(false);
  });
});

describe('TerminalText', () => {
  test('strips ANSI escapes and takes \\r\\n, \\n and a lone \\r as line ends, across chunk borders', () => {
    const t = new TerminalText();
    const chunks = [
      '\x1b[1;3',
      '2mshow\x1b[0m version\r',
      '\nline two\rline three\r\n(host) #\x1b]0;title\x07',
    ];
    expect(chunks.map((c) => t.push(c)).join('')).toBe('show version\nline two\nline three\n(host) #');
  });
});

describe('capabilities', () => {
  test('only what the login banner advertises, only names ciu knows', () => {
    expect([...advertisedCapabilities('Welcome\nciu-capabilities: log-message image-sha256 fly\n')]).toEqual([
      'image-sha256',
      'log-message',
    ]);
    expect(advertisedCapabilities('Authorized use only').size).toBe(0);
  });
});

describe('what the profile may ask of a dialect', () => {
  test('arubaos: ftp, scp, tftp on their well-known ports only', () => {
    expect(dialectProblems('arubaos', { protocol: 'ftp', server: { port: 21 } })).toEqual([]);
    expect(dialectProblems('arubaos', { protocol: 'scp', server: {} })).toEqual([]);
    expect(dialectProblems('arubaos', { protocol: 'sftp', server: { port: 2222 } })).toEqual([
      ['protocol', 'sftp cannot be used with arubaos controllers (they copy over ftp, scp, tftp)'],
      [
        'server.port',
        'must be 22 (or omitted) for arubaos controllers: their copy command has no port clause',
      ],
    ]);
    expect(dialectProblems('arubaos-ext', { protocol: 'sftp', server: { port: 2222 } })).toEqual([]);
  });

  test('write memory refuses, naming the field, what a targeted controller’s dialect cannot do', () => {
    const controller = (ip: string, dialect?: string) => ({
      ip,
      model: 'A7210',
      role: 'local',
      ssh: { host: ip, port: 22, hostKey: `SHA256:${'A'.repeat(43)}` },
      credentialsRef: 'admin',
      ...(dialect ? { dialect } : {}),
    });
    const config = (dialect?: string) => ({
      inventory: [controller('10.1.4.17', dialect)],
      profile: {
        models: {
          A7210: { imageFile: 'a.img', server: { host: '10.1.4.2', port: 2121 }, protocol: 'http' },
        },
      },
      targets: ['10.1.4.17'],
    });
    let refused: unknown;
    try {
      validateStaged(config() as never);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(UsageError);
    expect((refused as UsageError).issues).toEqual([
      'profile.models.A7210.protocol http cannot be used with arubaos controllers (they copy over ftp, scp, tftp)',
      'profile.models.A7210.server.port must be 80 (or omitted) for arubaos controllers: their copy command has no port clause',
    ]);
    expect(validateStaged(config('arubaos-ext') as never).inventory[0]?.dialect).toBe('arubaos-ext');
    // Untargeted controllers do not constrain the profile.
    expect(() => validateStaged({ ...config(), targets: [] } as never)).not.toThrow();
    const unknown = validateCampaignConfig(config('junos'));
    expect(unknown.ok ? [] : unknown.issues).toEqual([
      'inventory[0].dialect must be one of arubaos, arubaos-ext',
    ]);
  });
});

test('the ArubaOS pager is recognised at the end of the output, not inside it', () => {
  const { more } = dialectFor();
  expect(more.test('Partition : 0:0\n--More-- (q) quit (u) pageup (/) search (n) repeat')).toBe(true);
  expect(more.test('line\n -- More -- ')).toBe(true);
  expect(more.test('--More--\n(host) #')).toBe(false);
});
