/* eslint-disable @typescript-eslint/no-explicit-any -- the tests break the config as hand-written JSON would, field by field */
import { validateCampaignConfig } from '../../src/domain/config';
import { canonicalJson } from '../../src/domain/canonical-json';
import { isSafeFileName } from '../../src/domain/rules';
import { checkFile } from '../../src/device/validate';

function config(): Record<string, any> {
  return {
    inventory: [
      {
        ip: '10.1.4.17',
        model: 'A7210',
        role: 'local',
        ssh: { host: '127.0.1.17' },
        credentialsRef: 'ctl-admin',
      },
      {
        ip: '10.1.4.18',
        model: 'A7005',
        role: 'standby',
        ssh: { host: '127.0.1.18', port: 2222 },
        credentialsRef: 'ctl-admin',
      },
    ],
    profile: {
      models: {
        A7210: {
          imageFile: 'ArubaOS_72xx_6.4.0.0_81234',
          server: { host: '127.0.0.1', port: 2121 },
          protocol: 'ftp',
          credentialsRef: 'ftp-images',
        },
        A7005: { imageFile: 'ArubaOS_70xx_6.4.0.0_81234', server: { host: 'images.lab' }, protocol: 'tftp' },
      },
    },
    targets: ['all'],
  };
}

function issues(input: unknown): string[] {
  const result = validateCampaignConfig(input);
  return result.ok ? [] : result.issues;
}

test('a valid config gets the documented defaults', () => {
  const validation = validateCampaignConfig(config());
  if (!validation.ok) throw new Error(validation.issues.join('; '));
  const parsed = validation.config;
  expect(parsed.profile).toMatchObject({
    autoboot: false,
    maxDownloads: 10,
    retryInterval: '15m',
    quickTries: 3,
    partition: 'non-boot',
  });
  expect(parsed.inventory[0]!.ssh.port).toBe(22);
  expect(parsed.inventory[1]!.ssh.port).toBe(2222);
});

test.each([
  [(c: any) => (c.profile.maxDownloads = 0), 'profile.maxDownloads must be >= 1'],
  [(c: any) => (c.profile.maxDownloads = 2.5), 'profile.maxDownloads must be a whole number'],
  [
    (c: any) => (c.targets = ['10.1.4.0/24', 'all', '10.1.4.300']),
    'targets[2] "10.1.4.300" is not an IPv4 address or CIDR subnet',
  ],
  [
    (c: any) => (c.targets = ['10.1.4.0/40']),
    'targets[0] "10.1.4.0/40" is not an IPv4 address or CIDR subnet',
  ],
  [
    (c: any) => (c.profile.models.A7210.imageFile = 'ArubaOS 72xx'),
    'profile.models.A7210.imageFile must be a file name: letters, digits and ._+- in each /-separated part, none starting with . or -, each at most 128 characters',
  ],
  [
    (c: any) => (c.profile.models.A7210.imageFile = 'img;reboot'),
    'profile.models.A7210.imageFile must be a file name: letters, digits and ._+- in each /-separated part, none starting with . or -, each at most 128 characters',
  ],
  [
    (c: any) => (c.profile.models.A7210.imageFile = 'img\nreload'),
    'profile.models.A7210.imageFile must be a file name: letters, digits and ._+- in each /-separated part, none starting with . or -, each at most 128 characters',
  ],
  [
    (c: any) => (c.profile.models.A7210.imageFile = '../etc/passwd'),
    'profile.models.A7210.imageFile must be a file name: letters, digits and ._+- in each /-separated part, none starting with . or -, each at most 128 characters',
  ],
  [
    (c: any) => (c.profile.models.A7210.imageFile = '-rf'),
    'profile.models.A7210.imageFile must be a file name: letters, digits and ._+- in each /-separated part, none starting with . or -, each at most 128 characters',
  ],
  [(c: any) => (c.inventory[0].ip = '10.1.4'), 'inventory[0].ip must be an IPv4 address'],
  [(c: any) => (c.inventory[1].ip = '10.1.4.17'), 'inventory[1].ip 10.1.4.17 is listed twice'],
  [(c: any) => (c.inventory[0].role = 'master'), "inventory[0].role must be 'local' or 'standby'"],
  [
    (c: any) => (c.profile.models.A7210.protocol = 'smb'),
    'profile.models.A7210.protocol must be one of ftp, ftps, scp, sftp, tftp, http',
  ],
  [
    (c: any) => (c.profile.models.A7210.server.port = 70000),
    'profile.models.A7210.server.port must be <= 65535',
  ],
  [
    (c: any) => (c.profile.retryInterval = 'soon'),
    "profile.retryInterval must be a duration of at least 1s and at most 365d ('15m', '30s', '2h')",
  ],
  [
    (c: any) => (c.profile.retryInterval = '99999999999999999999999d'),
    "profile.retryInterval must be a duration of at least 1s and at most 365d ('15m', '30s', '2h')",
  ],
  [(c: any) => (c.profile.partition = 2), "profile.partition must be 'non-boot', 0 or 1"],
  [
    (c: any) => delete c.profile.models.A7005,
    'profile.models.A7005 is missing: targets include A7005 controllers (10.1.4.18)',
  ],
  [
    (c: any) => (c.profile.models.X9 = c.profile.models.A7005),
    'profile.models.X9 is not a known controller model',
  ],
  [(c: any) => (c.profile.autoBoot = true), 'profile.autoBoot is not a known field'],
  [(c: any) => delete c.inventory[0].credentialsRef, 'inventory[0].credentialsRef is required'],
])('rejects bad input naming the field: %#', (mutate, message) => {
  const c = config();
  mutate(c);
  expect(issues(c)).toContain(message);
});

test('an unknown model in the inventory is rejected', () => {
  const c = config();
  c.inventory[0].model = 'A9999';
  expect(issues(c)[0]).toMatch(/^inventory\[0\]\.model "A9999" is not a known controller model \(A7005, /);
});

test('a model nobody targets needs no profile entry', () => {
  const c = config();
  delete c.profile.models.A7005;
  c.targets = ['10.1.4.17'];
  expect(issues(c)).toEqual([]);
});

test.each([
  ['profile.models.A7210.password', (c: any) => (c.profile.models.A7210.password = 's3cret')],
  ['inventory[0].privateKey', (c: any) => (c.inventory[0].privateKey = '-----BEGIN')],
  ['profile.secret', (c: any) => (c.profile.secret = 'x')],
])('a secret (%s) is refused with a pointer to credentialsRef and is not echoed', (field, mutate) => {
  const c = config();
  mutate(c);
  const found = issues(c);
  expect(found).toHaveLength(1);
  expect(found[0]).toMatch(
    new RegExp(`^${field.replace(/[[\].]/g, '\\$&')} is not accepted: .*use credentialsRef`),
  );
  expect(found.join()).not.toMatch(/s3cret|BEGIN/);
});

test('every issue is reported, in field order', () => {
  const c = config();
  c.profile.maxDownloads = 0;
  c.targets = ['nope'];
  expect(issues(c)).toEqual([
    'profile.maxDownloads must be >= 1',
    'targets[0] "nope" is not an IPv4 address or CIDR subnet',
  ]);
});

test('file names', () => {
  expect(isSafeFileName('ArubaOS_72xx_6.4.0.0_81234')).toBe(true);
  expect(isSafeFileName('images/ArubaOS_72xx.ari')).toBe(true);
  for (const bad of ['', 'a b', 'a;b', 'a\nb', 'a/../b', '/abs', 'a|b', 'a$b', '`x`'])
    expect(isSafeFileName(bad)).toBe(false);
});

// Issue 9, bug 2: these passed `write memory` and were then refused by the driver on every cycle.
test.each(['images/.hidden', 'a/-x', 'img/', 'a/./b', 'x'.repeat(130)])(
  'file name %s is refused by write memory and by the driver, with one reason',
  (name) => {
    const input = config();
    input.profile.models.A7210.imageFile = name;
    const validation = validateCampaignConfig(input);
    expect(validation.ok).toBe(false);
    expect(!validation.ok && validation.issues[0]).toMatch(/^profile\.models\.A7210\.imageFile must /);
    expect(() => checkFile('file', name)).toThrow(/^file must /);
  },
);

test('canonical JSON ignores key order, so equal configs compare equal', () => {
  expect(canonicalJson({ a: 1, b: { d: [1, { y: 2, x: 1 }], c: 3 } })).toBe(
    canonicalJson({ b: { c: 3, d: [1, { x: 1, y: 2 }] }, a: 1 }),
  );
  expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
});

test('values and map keys echoed in messages carry no control characters (commitConfig validator, write memory)', () => {
  const c = config();
  c.inventory[0].model = 'A9999\x1b]0;owned\x07';
  c.targets = ['10.1.4.0/24\u009b2J'];
  const found = issues(c);
  expect(found).toEqual([
    expect.stringMatching(/^inventory\[0\]\.model "A9999" is not a known controller model \(A7005, /),
    'targets[0] "10.1.4.0/24" is not an IPv4 address or CIDR subnet',
  ]);
  const keyed = config();
  keyed.profile.models['A7210\x1b[2J\x08'] = keyed.profile.models.A7210;
  const keyIssues = issues(keyed);
  expect(keyIssues).toEqual(['profile.models.A7210\\x08 is not a known controller model']);
  // eslint-disable-next-line no-control-regex
  for (const line of [...found, ...keyIssues]) expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
});
